fn b(t: &str) -> u32 {
    #[allow(unused_imports)]
    use ::instrument::__private::prelude::*;
    static __INSTRUMENT_PARAMS: [::instrument::__private::ParamMeta; 1usize] = [
        ::instrument::__private::ParamMeta {
            name: "t",
            key: "parameter.t",
            rule: ::instrument::__private::ParamRule::Default,
        },
    ];
    static __INSTRUMENT_META: ::instrument::__private::SpanMeta = ::instrument::__private::SpanMeta::new(
        "b",
        ::core::concat!(::core::module_path!(), "::", "b"),
        ::core::file!(),
        ::core::line!(),
        ::instrument::__private::SpanKind::Internal,
        &__INSTRUMENT_PARAMS,
    );
    let __instrument_span = if ::instrument::__private::enabled() {
        ::instrument::__private::start(
            &__INSTRUMENT_META,
            ::core::option::Option::None,
            &[
                &(&&&&&::instrument::__private::Param(&t)).__instrument_capture()
                    as &dyn ::instrument::__private::Capture,
            ],
        )
    } else {
        ::core::option::Option::None
    };
    #[allow(clippy::redundant_closure_call)]
    let __instrument_ret = ::instrument::__private::call(
        &__instrument_span,
        move || {
            #[allow(
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::let_unit_value,
                clippy::unreachable
            )]
            if false {
                let __instrument_fake_return: u32 = loop {};
                return __instrument_fake_return;
            }
            t.len() as u32
        },
    );
    if let ::core::option::Option::Some(__instrument_span) = __instrument_span {
        __instrument_span
            .finish(
                (&&&&::instrument::__private::Returned(&__instrument_ret))
                    .__instrument_outcome(),
            );
    }
    __instrument_ret
}
