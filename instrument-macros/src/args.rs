//! Attribute-argument parsing shared by the macros: `key`, `key = value`, `key = [a, b]`, with
//! duplicate and unknown keys reported on the offending token.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token, bracketed};

/// The value after `=`, if any.
pub(crate) enum OptionValue {
    /// A bare `key`.
    Flag,
    /// `key = [a, b, c]`.
    List(Vec<Expr>),
    /// `key = expression`.
    Expr(Expr),
}

/// One `key[ = value]` entry.
pub(crate) struct RawOption {
    pub key: Ident,
    pub value: OptionValue,
}

/// All entries of one attribute, in order.
pub(crate) struct RawOptions(pub Vec<RawOption>);

impl Parse for RawOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Vec::new();
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                if input.peek(syn::token::Bracket) {
                    let content;
                    bracketed!(content in input);
                    let items = content.parse_terminated(Expr::parse, Token![,])?;
                    OptionValue::List(items.into_iter().collect())
                } else {
                    OptionValue::Expr(input.parse()?)
                }
            } else {
                OptionValue::Flag
            };
            options.push(RawOption { key, value });
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(RawOptions(options))
    }
}

impl RawOptions {
    /// Fails on the first key not in `allowed` or seen twice.
    pub fn check_keys(&self, allowed: &[&str]) -> syn::Result<()> {
        for (i, option) in self.0.iter().enumerate() {
            let key = option.key.to_string();
            if !allowed.contains(&key.as_str()) {
                return Err(syn::Error::new(
                    option.key.span(),
                    format!(
                        "unknown option `{key}`; expected one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if self.0[..i].iter().any(|earlier| earlier.key == option.key) {
                return Err(syn::Error::new(
                    option.key.span(),
                    format!("duplicate option `{key}`"),
                ));
            }
        }
        Ok(())
    }
}

impl RawOption {
    /// The value as a list of names.
    pub fn names(&self) -> syn::Result<Vec<Ident>> {
        let OptionValue::List(items) = &self.value else {
            return Err(self.expected("a list of parameter names, e.g. `[messages, agent_state]`"));
        };
        items
            .iter()
            .map(|item| match item {
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    Ok(p.path.get_ident().cloned().expect("checked"))
                }
                other => Err(syn::Error::new_spanned(other, "expected a parameter name")),
            })
            .collect()
    }

    /// The value as a list of numbers, each with its span.
    pub fn numbers(&self) -> syn::Result<Vec<(f64, Span)>> {
        let OptionValue::List(items) = &self.value else {
            return Err(self.expected("a list of numbers, e.g. `[1.0, 5.0, 10.0]`"));
        };
        items.iter().map(number).collect()
    }

    /// The value as a string literal.
    pub fn string(&self) -> syn::Result<syn::LitStr> {
        match &self.value {
            OptionValue::Expr(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) => Ok(s.clone()),
            OptionValue::Expr(expr) => Err(syn::Error::new_spanned(
                expr,
                format!("`{}` expects a string literal", self.key),
            )),
            _ => Err(self.expected("a string literal")),
        }
    }

    /// The value as a string literal or a bare identifier, with its span.
    pub fn word(&self) -> syn::Result<(String, Span)> {
        match &self.value {
            OptionValue::Expr(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            })) => Ok((s.value(), s.span())),
            OptionValue::Expr(Expr::Path(p)) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked above");
                Ok((ident.to_string(), ident.span()))
            }
            OptionValue::Expr(expr) => Err(syn::Error::new_spanned(
                expr,
                format!(
                    "`{}` expects a name, e.g. `{} = \"client\"`",
                    self.key, self.key
                ),
            )),
            _ => Err(self.expected("a name")),
        }
    }

    /// The value as a boolean literal (for `context = false`).
    pub fn bool(&self) -> syn::Result<bool> {
        match &self.value {
            OptionValue::Expr(Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Bool(b),
                ..
            })) => Ok(b.value),
            _ => Err(self.expected("`true` or `false`")),
        }
    }

    /// The value as a path (for `crate = path`).
    pub fn path(&self) -> syn::Result<syn::Path> {
        match &self.value {
            OptionValue::Expr(Expr::Path(p)) => Ok(p.path.clone()),
            _ => Err(self.expected("a path, e.g. `crate = ::my_instrument`")),
        }
    }

    /// Fails unless the option is a bare flag.
    pub fn flag(&self) -> syn::Result<()> {
        match &self.value {
            OptionValue::Flag => Ok(()),
            _ => Err(syn::Error::new(
                self.key.span(),
                format!("`{}` takes no value", self.key),
            )),
        }
    }

    /// The key's span.
    pub fn span(&self) -> Span {
        self.key.span()
    }

    fn expected(&self, what: &str) -> syn::Error {
        syn::Error::new(self.key.span(), format!("`{}` expects {what}", self.key))
    }
}

/// A numeric literal, possibly negated.
fn number(expr: &Expr) -> syn::Result<(f64, Span)> {
    let span = syn::spanned::Spanned::span(expr);
    let value = match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>()?,
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<f64>()?,
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            expr,
            ..
        }) => -number(expr)?.0,
        other => return Err(syn::Error::new_spanned(other, "expected a number")),
    };
    Ok((value, span))
}
