//! Span names of the operations (`chat gpt-4o`, `execute_tool calculator`,
//! `invoke_agent planner`): each made once per text and kept for the life of the process (for
//! the first texts seen), and the last few a thread used remembered by that thread, so that a
//! thread calling one model or tool over and over compares a short text instead of hashing it
//! and taking the kept texts' lock.

use std::borrow::Cow;
use std::cell::RefCell;

use opentelemetry::StringValue;

use crate::metrics::bound::kept_text;

/// Names a thread remembers: a model, a tool and an agent in one loop.
const REMEMBERED: usize = 4;

/// One remembered name: the operation (its literal's address), its text and the span name.
struct Remembered {
    operation: usize,
    text: StringValue,
    name: Cow<'static, str>,
}

/// A thread's remembered names, the oldest replaced first.
struct Names {
    entries: [Option<Remembered>; REMEMBERED],
    next: usize,
}

thread_local! {
    static NAMES: RefCell<Names> = const {
        RefCell::new(Names { entries: [None, None, None, None], next: 0 })
    };
}

/// `{operation} {text}`: the span name of `operation` (`chat`, `execute_tool`, ...) on `text`
/// (its model, tool or agent).
pub(super) fn span_name(operation: &'static str, text: &StringValue) -> Cow<'static, str> {
    let key = operation.as_ptr() as usize;
    let remembered = NAMES.try_with(|names| {
        let mut names = names.try_borrow_mut().ok()?;
        let found = names
            .entries
            .iter()
            .flatten()
            .find(|entry| entry.operation == key && entry.text.as_str() == text.as_str());
        if let Some(entry) = found {
            return Some(entry.name.clone());
        }
        let name = kept(operation, text);
        if let Cow::Borrowed(_) = name {
            let next = names.next;
            names.entries[next] = Some(Remembered {
                operation: key,
                text: text.clone(),
                name: name.clone(),
            });
            names.next = (next + 1) % REMEMBERED;
        }
        Some(name)
    });
    match remembered {
        Ok(Some(name)) => name,
        // No thread storage (a thread ending) or the cell in use: the kept texts alone.
        _ => kept(operation, text),
    }
}

fn kept(operation: &'static str, text: &StringValue) -> Cow<'static, str> {
    kept_text(operation, text.as_str(), || {
        format!("{operation} {}", text.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_operation_and_the_text_and_stay_apart() {
        let model = StringValue::from("gpt-4o");
        for _ in 0..3 {
            assert_eq!(span_name("chat", &model), "chat gpt-4o");
        }
        assert_eq!(
            span_name("chat", &StringValue::from(String::from("gpt-4o-mini"))),
            "chat gpt-4o-mini"
        );
        assert_eq!(span_name("execute_tool", &model), "execute_tool gpt-4o");
        for i in 0..10 {
            let tool = StringValue::from(format!("tool-{i}"));
            assert_eq!(
                span_name("execute_tool", &tool),
                format!("execute_tool tool-{i}")
            );
        }
        assert_eq!(span_name("chat", &model), "chat gpt-4o");
        assert!(matches!(span_name("chat", &model), Cow::Borrowed(_)));
    }
}
