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
    let __instrument_body = ::instrument::__private::once_traced(move |
        __instrument_start: ::core::option::Option<
            &mut ::instrument::__private::SpanStart,
        >|
    {
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
        if let ::core::option::Option::Some(__instrument_start) = __instrument_start {
            __instrument_start
                .start(
                    &[
                        &(&&&&&::instrument::__private::Param(&t)).__instrument_capture()
                            as &dyn ::instrument::__private::Capture,
                    ],
                );
        }
        t.len() as u32
    });
    if __INSTRUMENT_META.is_off() {
        __instrument_body(::core::option::Option::None)
    } else {
        ::instrument::__private::trace_call(
            &__INSTRUMENT_META,
            ::core::option::Option::None,
            move |__instrument_start| __instrument_body(__instrument_start),
            |__instrument_ret| {
                (&&&&::instrument::__private::Returned(__instrument_ret))
                    .__instrument_outcome()
            },
        )
    }
}
