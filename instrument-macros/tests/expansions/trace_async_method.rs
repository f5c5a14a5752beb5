fn step(
    &self,
    agent_id: &str,
    messages: &[Message],
) -> impl ::core::future::Future<Output = Result<Reply, Error>> {
    #[allow(unused_imports)]
    use ::instrument::__private::prelude::*;
    static __INSTRUMENT_PARAMS: [::instrument::__private::ParamMeta; 2usize] = [
        ::instrument::__private::ParamMeta {
            name: "agent_id",
            key: "parameter.agent_id",
            rule: ::instrument::__private::ParamRule::Default,
        },
        ::instrument::__private::ParamMeta {
            name: "messages",
            key: "parameter.messages",
            rule: ::instrument::__private::ParamRule::Exclude,
        },
    ];
    static __INSTRUMENT_META: ::instrument::__private::SpanMeta = ::instrument::__private::SpanMeta::method_of_self(
        "step",
        ::core::option::Option::None,
        ::core::file!(),
        ::core::line!(),
        ::instrument::__private::SpanKind::Internal,
        &__INSTRUMENT_PARAMS,
    );
    ::instrument::__private::Traced::new(
        || &__INSTRUMENT_META,
        async move {
            let _ = &self;
            if ::instrument::__private::armed() {
                ::instrument::__private::begin(
                    &__INSTRUMENT_META,
                    ::core::option::Option::Some(::core::any::type_name::<Self>()),
                    &[
                        &(&&&&&::instrument::__private::Param(&agent_id))
                            .__instrument_capture()
                            as &dyn ::instrument::__private::Capture,
                        &(&&&&&::instrument::__private::Param(&messages))
                            .__instrument_capture()
                            as &dyn ::instrument::__private::Capture,
                    ],
                );
            }
            #[allow(unused_variables, clippy::used_underscore_binding)]
            let agent_id = agent_id;
            #[allow(unused_variables, clippy::used_underscore_binding)]
            let messages = messages;
            #[allow(
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::let_unit_value,
                clippy::unreachable
            )]
            if false {
                let __instrument_fake_return: Result<Reply, Error> = loop {};
                return __instrument_fake_return;
            }
            self.run(agent_id, messages).await
        },
        |__instrument_ret| {
            (&&&&::instrument::__private::Returned(__instrument_ret))
                .__instrument_outcome()
        },
    )
}
