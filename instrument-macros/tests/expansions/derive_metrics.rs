impl AgentMetrics {
    /// Creates every instrument of this set from `meter`.
    pub fn new(meter: &::instrument::__private::opentelemetry::metrics::Meter) -> Self {
        Self {
            ttft: ::instrument::__private::FromInstrument::from_instrument(
                meter
                    .f64_histogram("hist_ttft_ms")
                    .with_unit("ms")
                    .with_description("Time to first token.")
                    .build(),
                true,
            ),
            user_messages: ::instrument::__private::FromInstrument::from_instrument(
                meter
                    .u64_counter("agent.user_messages")
                    .with_description("Messages.")
                    .build(),
                true,
            ),
        }
    }
    /// The process-wide set: created on first use from the installed meter provider, and
    /// created again whenever a provider is installed later, so a set touched before
    /// setup still records after it.
    pub fn global() -> ::std::sync::Arc<Self> {
        static INSTANCE: ::instrument::__private::GlobalInstruments<AgentMetrics> = ::instrument::__private::GlobalInstruments::new();
        INSTANCE.get("agent", Self::new)
    }
}
const _: () = {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not an `instrument::metrics` instrument: it would record no request-context attributes",
        label = "use the `instrument::metrics` type of this name"
    )]
    trait ContextInstrument {}
    impl<T> ContextInstrument for ::instrument::metrics::Counter<T> {}
    impl<T> ContextInstrument for ::instrument::metrics::UpDownCounter<T> {}
    impl<T> ContextInstrument for ::instrument::metrics::Histogram<T> {}
    impl<T> ContextInstrument for ::instrument::metrics::Gauge<T> {}
    fn context_instrument<I: ContextInstrument>() {}
    #[allow(dead_code)]
    fn fields() {
        context_instrument::<Histogram<f64>>();
        context_instrument::<Counter<u64>>();
    }
};
