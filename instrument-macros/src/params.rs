//! The names a function's parameters bind, in order (patterns give several).

use syn::{FnArg, Ident, Pat, Signature};

/// The parameters of a signature.
pub(crate) struct Params {
    /// Whether the function takes `self`.
    pub has_receiver: bool,
    /// Every name bound by the typed parameters' patterns.
    pub bindings: Vec<Ident>,
}

impl Params {
    pub fn of(sig: &Signature) -> Self {
        let mut params = Params {
            has_receiver: false,
            bindings: Vec::new(),
        };
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(_) => params.has_receiver = true,
                FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut params.bindings),
            }
        }
        params
    }
}

fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(p) if p.ident == "self" => {}
        Pat::Ident(p) => {
            out.push(p.ident.clone());
            if let Some((_, sub)) = &p.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| collect_bindings(&f.pat, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| collect_bindings(e, out)),
        Pat::Reference(p) => collect_bindings(&p.pat, out),
        Pat::Paren(p) => collect_bindings(&p.pat, out),
        Pat::Type(p) => collect_bindings(&p.pat, out),
        Pat::Or(p) => {
            if let Some(first) = p.cases.first() {
                collect_bindings(first, out);
            }
        }
        _ => {}
    }
}
