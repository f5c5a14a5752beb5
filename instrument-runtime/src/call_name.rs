//! The name of an instrumented function as spans and metrics show it: `fn_name`, `Type.method`,
//! or an explicit name, with the function's full path for `code.function.name`.
//!
//! A method whose type is only known as `Self` (its attribute sits on the method, not on the
//! `impl` block) is named from `type_name::<Self>()`, resolved once per call site.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::capture::{base_type_name, type_path};

/// The name of one call site, built in a `static` by the macros.
#[derive(Debug)]
pub(crate) struct CallName {
    name: &'static str,
    function: &'static str,
    named_after_self: bool,
    explicit_name: bool,
    self_names: OnceLock<SelfNames>,
}

/// Span name and function path of a method whose type is only known as `Self`.
#[derive(Debug)]
struct SelfNames {
    self_type: &'static str,
    display: String,
    function: String,
}

impl CallName {
    /// A name and function path known at compile time.
    pub(crate) const fn fixed(name: &'static str, function: &'static str) -> Self {
        Self {
            name,
            function,
            named_after_self: false,
            explicit_name: false,
            self_names: OnceLock::new(),
        }
    }

    /// A method named `{Self}.{method}` (or `name`, when given), where `Self` is resolved at run
    /// time from the type name the call site passes.
    pub(crate) const fn of_self(method: &'static str, name: Option<&'static str>) -> Self {
        let (name, explicit_name) = match name {
            Some(name) => (name, true),
            None => (method, false),
        };
        Self {
            name,
            function: method,
            named_after_self: true,
            explicit_name,
            self_names: OnceLock::new(),
        }
    }

    /// The display name and the function path for a call with `Self = self_type`.
    pub(crate) fn resolve(
        &'static self,
        self_type: Option<&'static str>,
    ) -> (Cow<'static, str>, Cow<'static, str>) {
        let Some(self_type) = self_type.filter(|_| self.named_after_self) else {
            return (Cow::Borrowed(self.name), Cow::Borrowed(self.function));
        };
        let cached = self
            .self_names
            .get_or_init(|| self.self_names_for(self_type));
        if cached.self_type == self_type {
            (
                Cow::Borrowed(cached.display.as_str()),
                Cow::Borrowed(cached.function.as_str()),
            )
        } else {
            // A default method of a trait, called on another implementor than the first.
            let fresh = self.self_names_for(self_type);
            (Cow::Owned(fresh.display), Cow::Owned(fresh.function))
        }
    }

    fn self_names_for(&self, self_type: &'static str) -> SelfNames {
        let display = if self.explicit_name {
            self.name.to_owned()
        } else {
            format!("{}.{}", base_type_name(self_type), self.name)
        };
        SelfNames {
            self_type,
            display,
            function: format!("{}::{}", type_path(self_type), self.function),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static METHOD: CallName = CallName::of_self("step", None);
    static RENAMED: CallName = CallName::of_self("step", Some("agent.step"));
    static FREE: CallName = CallName::fixed("run", "app::run");

    #[test]
    fn method_names_come_from_self() {
        let (name, function) = METHOD.resolve(Some("app::agents::Agent<u8>"));
        assert_eq!(name, "Agent.step");
        assert_eq!(function, "app::agents::Agent::step");
        let (other, _) = METHOD.resolve(Some("app::Other"));
        assert_eq!(other, "Other.step");
        assert_eq!(FREE.resolve(None).0, "run");
        let (explicit, function) = RENAMED.resolve(Some("app::Agent"));
        assert_eq!(
            (explicit.as_ref(), function.as_ref()),
            ("agent.step", "app::Agent::step")
        );
    }
}
