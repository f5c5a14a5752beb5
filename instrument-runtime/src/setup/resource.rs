//! The resource every span carries: service, host and device identity.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_semantic_conventions::attribute::{
    DEPLOYMENT_ENVIRONMENT_NAME, DEVICE_ID, HOST_NAME, SERVICE_NAME, SERVICE_VERSION,
};

/// The pre-1.27 name of `deployment.environment.name`, still set by many deployments.
const LEGACY_DEPLOYMENT_ENVIRONMENT: &str = "deployment.environment";

/// What the resource is built from.
#[derive(Debug, Default, Clone)]
pub(crate) struct ResourceInputs {
    pub service_name: Option<String>,
    pub service_version: Option<String>,
    pub environment: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// Builds the resource. Later sources win: detected values, then `OTEL_RESOURCE_ATTRIBUTES`,
/// then the builder's explicit settings. `device.id` is left out in production.
pub(crate) fn build(inputs: &ResourceInputs) -> Resource {
    let from_attrs = |key: &str| {
        inputs
            .attributes
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let service_name = inputs
        .service_name
        .clone()
        .or_else(|| from_attrs(SERVICE_NAME))
        .unwrap_or_else(executable_name);
    let environment = inputs
        .environment
        .clone()
        .or_else(|| from_attrs(DEPLOYMENT_ENVIRONMENT_NAME))
        .or_else(|| from_attrs(LEGACY_DEPLOYMENT_ENVIRONMENT));

    let mut attrs: Vec<KeyValue> = Vec::new();
    attrs.push(KeyValue::new(HOST_NAME, host_name()));
    if !environment.as_deref().is_some_and(is_production) {
        attrs.push(KeyValue::new(DEVICE_ID, device_id()));
    }
    attrs.extend(
        inputs
            .attributes
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    if let Some(version) = &inputs.service_version {
        attrs.push(KeyValue::new(SERVICE_VERSION, version.clone()));
    }
    if let Some(environment) = &inputs.environment {
        attrs.push(KeyValue::new(
            DEPLOYMENT_ENVIRONMENT_NAME,
            environment.clone(),
        ));
    }
    // `telemetry.sdk.name`, `.language` and `.version`, as the SDK reports them.
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(attrs)
        .with_service_name(service_name)
        .build()
}

fn is_production(environment: &str) -> bool {
    matches!(
        environment.to_ascii_lowercase().as_str(),
        "production" | "prod"
    )
}

/// The running executable's name: the default `service.name`.
fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown_service".to_owned())
}

/// A stable, anonymous machine id: a hash of the OS machine id (or of the host name), so the
/// raw machine id never leaves the host.
/// The machine's host name: on Linux the kernel's UTS name from /proc (what `gethostname(2)`
/// returns), elsewhere `gethostname`'s.
fn host_name() -> String {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .ok()
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    }
    #[cfg(not(target_os = "linux"))]
    {
        gethostname::gethostname().to_string_lossy().into_owned()
    }
}

fn device_id() -> String {
    let source = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(host_name);
    let seed = format!("instrument.device.id:{source}");
    format!(
        "{:016x}{:016x}",
        fnv1a(seed.as_bytes(), 0xcbf2_9ce4_8422_2325),
        fnv1a(seed.as_bytes(), 0x8422_2325_cbf2_9ce4)
    )
}

fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes.iter().fold(basis, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Key;

    #[test]
    fn resource_has_identity_and_device_outside_production() {
        let resource = build(&ResourceInputs {
            service_name: Some("svc".into()),
            service_version: Some("1.2.3".into()),
            ..Default::default()
        });
        assert_eq!(
            resource.get(&Key::new(SERVICE_NAME)).unwrap().as_str(),
            "svc"
        );
        assert_eq!(
            resource.get(&Key::new(SERVICE_VERSION)).unwrap().as_str(),
            "1.2.3"
        );
        assert!(resource.get(&Key::new(HOST_NAME)).is_some());
        let id = resource
            .get(&Key::new(DEVICE_ID))
            .unwrap()
            .as_str()
            .into_owned();
        assert_eq!(id.len(), 32);
        assert_eq!(id, device_id(), "device id is stable");
    }

    #[test]
    fn resource_names_the_sdk() {
        let resource = build(&ResourceInputs::default());
        let get = |key: &'static str| {
            resource
                .get(&Key::new(key))
                .map(|v| v.as_str().into_owned())
        };
        assert_eq!(get("telemetry.sdk.name").as_deref(), Some("opentelemetry"));
        assert_eq!(get("telemetry.sdk.language").as_deref(), Some("rust"));
        assert!(get("telemetry.sdk.version").is_some_and(|v| v.starts_with("0.")));
    }

    #[test]
    fn service_version_comes_from_the_builder_or_the_environment_only() {
        let version = |inputs: ResourceInputs| {
            build(&inputs)
                .get(&Key::new(SERVICE_VERSION))
                .map(|v| v.as_str().into_owned())
        };
        // Setup has no way to read the calling binary's `CARGO_PKG_VERSION`: without
        // `.service_version(..)` or `OTEL_RESOURCE_ATTRIBUTES`, there is no `service.version`.
        assert_eq!(version(ResourceInputs::default()), None);
        let from_env = || vec![(SERVICE_VERSION.to_owned(), "0.9.0".to_owned())];
        assert_eq!(
            version(ResourceInputs {
                attributes: from_env(),
                ..Default::default()
            })
            .as_deref(),
            Some("0.9.0")
        );
        assert_eq!(
            version(ResourceInputs {
                service_version: Some(env!("CARGO_PKG_VERSION").into()),
                attributes: from_env(),
                ..Default::default()
            })
            .as_deref(),
            Some(env!("CARGO_PKG_VERSION")),
            "the builder's value wins"
        );
    }

    #[test]
    fn no_device_id_in_production() {
        let resource = build(&ResourceInputs {
            attributes: vec![(DEPLOYMENT_ENVIRONMENT_NAME.into(), "production".into())],
            ..Default::default()
        });
        assert!(resource.get(&Key::new(DEVICE_ID)).is_none());
    }
}
