fn checkout(order_id: &str, items: u32) -> Result<u32, String> {
    #[allow(unused_imports)]
    use ::instrument::__private::prelude::*;
    static __INSTRUMENT_PARAMS: [::instrument::__private::ParamMeta; 2usize] = [
        ::instrument::__private::ParamMeta {
            name: "order_id",
            key: "parameter.order_id",
            rule: ::instrument::__private::ParamRule::Default,
        },
        ::instrument::__private::ParamMeta {
            name: "items",
            key: "parameter.items",
            rule: ::instrument::__private::ParamRule::Default,
        },
    ];
    static __INSTRUMENT_META: ::instrument::__private::SpanMeta = ::instrument::__private::SpanMeta::new(
        "checkout",
        ::core::concat!(::core::module_path!(), "::", "checkout"),
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
            let __instrument_fake_return: Result<u32, String> = loop {};
            return __instrument_fake_return;
        }
        if let ::core::option::Option::Some(__instrument_start) = __instrument_start {
            __instrument_start
                .start(
                    &[
                        &(&&&&&::instrument::__private::Param(&order_id))
                            .__instrument_capture()
                            as &dyn ::instrument::__private::Capture,
                        &(&&&&&::instrument::__private::Param(&items))
                            .__instrument_capture()
                            as &dyn ::instrument::__private::Capture,
                    ],
                );
        }
        Ok(items)
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
