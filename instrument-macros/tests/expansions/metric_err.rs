async fn run_tool(name: &str) -> Result<usize, ToolError> {
    #[allow(unused_imports)]
    use ::instrument::__private::prelude::*;
    static __INSTRUMENT_METRIC: ::instrument::__private::MetricMeta = ::instrument::__private::MetricMeta::new(
        "run_tool",
        ::core::module_path!(),
        ::instrument::__private::MetricSpec {
            histogram: ::core::option::Option::Some("hist_tool_ms"),
            counter: ::core::option::Option::None,
            unit: "ms",
            description: "Duration of `run_tool` calls",
            counter_description: "Calls of `run_tool`",
            buckets: &[],
        },
    );
    let __instrument_timer = if ::instrument::__private::metrics_enabled() {
        ::core::option::Option::Some(
            ::instrument::__private::Timer::start(
                &__INSTRUMENT_METRIC,
                ::core::option::Option::None,
            ),
        )
    } else {
        ::core::option::Option::None
    };
    let __instrument_body = async move {
        #[allow(clippy::used_underscore_binding)]
        let name = name;
        #[allow(
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::unreachable
        )]
        if false {
            let __instrument_fake_return: Result<usize, ToolError> = loop {};
            return __instrument_fake_return;
        }
        Ok(name.len())
    };
    match __instrument_timer {
        ::core::option::Option::None => {
            ::instrument::__private::Timed::bare(__instrument_timer, __instrument_body)
                .await
        }
        __instrument_timer => {
            ::instrument::__private::Timed::new(
                    __instrument_timer,
                    __instrument_body,
                    |__instrument_ret| {
                        #[allow(unreachable_code)]
                        if false {
                            let _: &::core::result::Result<_, _> = __instrument_ret;
                        }
                        (&&&&::instrument::__private::Returned(__instrument_ret))
                            .__instrument_outcome()
                    },
                )
                .await
        }
    }
}
