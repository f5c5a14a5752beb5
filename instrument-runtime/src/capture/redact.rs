//! Redaction inside structured values: a `Serialize` wrapper that writes `[redacted]` for the
//! value of every struct field and map key whose name is a secret, at any depth, while the value
//! is serialized (no second pass over the text, nothing serialized that is then thrown away).

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

use super::REDACTED;

/// Writes `value` as JSON into `writer` the way parameter capture does: struct fields and map
/// keys whose names are secrets, at any depth, are written as `[redacted]`.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Login { user: &'static str, password: &'static str }
///
/// let mut out = Vec::new();
/// instrument::capture::write_redacted_json(&mut out, &Login { user: "u1", password: "hunter2" }).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), r#"{"user":"u1","password":"[redacted]"}"#);
/// ```
pub fn write_redacted_json<W: std::io::Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    serde_json::to_writer(writer, &Redacted::new(value))
}

/// `value`, serialized with secret-named fields and keys at any depth redacted under the
/// capture configuration in force (read only for map keys; struct fields use the per-name
/// cache).
pub(crate) struct Redacted<'a, T: ?Sized> {
    value: &'a T,
}

impl<'a, T: ?Sized> Redacted<'a, T> {
    pub(crate) fn new(value: &'a T) -> Self {
        Self { value }
    }
}

impl<T: Serialize + ?Sized> Serialize for Redacted<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Redacting { inner: serializer })
    }
}

/// A serializer that wraps every nested value in [`Redacted`].
struct Redacting<S> {
    inner: S,
}

/// A compound serializer (sequence, tuple, map, struct) of [`Redacting`].
struct Compound<C> {
    inner: C,
    /// For maps: whether the value of the key just written is a secret.
    redact_next: bool,
}

impl<C> Compound<C> {
    fn new(inner: C) -> Self {
        Self {
            inner,
            redact_next: false,
        }
    }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
            self.inner.$method($($arg),*)
        }
    )*};
}

impl<S: Serializer> Serializer for Redacting<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Variant<S::SerializeTupleVariant, S::Ok>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Variant<S::SerializeStructVariant, S::Ok>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.serialize_some(&Redacted::new(value))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        if super::is_secret_static(name) {
            super::count_redactions(1);
            return self.inner.serialize_newtype_struct(name, REDACTED);
        }
        self.inner
            .serialize_newtype_struct(name, &Redacted::new(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        if super::is_secret_static(variant) {
            super::count_redactions(1);
            return self
                .inner
                .serialize_newtype_variant(name, index, variant, REDACTED);
        }
        self.inner
            .serialize_newtype_variant(name, index, variant, &Redacted::new(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Ok(Compound::new(self.inner.serialize_seq(len)?))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Ok(Compound::new(self.inner.serialize_tuple(len)?))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Ok(Compound::new(self.inner.serialize_tuple_struct(name, len)?))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        if super::is_secret_static(variant) {
            return self.redacted_variant(name, index, variant);
        }
        Ok(Variant::Open(Compound::new(
            self.inner
                .serialize_tuple_variant(name, index, variant, len)?,
        )))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(Compound::new(self.inner.serialize_map(len)?))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(Compound::new(self.inner.serialize_struct(name, len)?))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        if super::is_secret_static(variant) {
            return self.redacted_variant(name, index, variant);
        }
        Ok(Variant::Open(Compound::new(
            self.inner
                .serialize_struct_variant(name, index, variant, len)?,
        )))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<S: Serializer> Redacting<S> {
    /// A tuple or struct variant whose name is a secret: written whole as `{"Variant":
    /// "[redacted]"}` (a newtype variant of the placeholder); its fields are never serialized.
    fn redacted_variant<C>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<Variant<C, S::Ok>, S::Error> {
        super::count_redactions(1);
        self.inner
            .serialize_newtype_variant(name, index, variant, REDACTED)
            .map(Variant::Redacted)
    }
}

/// The compound serializer of a tuple or struct variant: open, or already written as
/// `[redacted]` (its name is a secret), its fields then dropped unseen.
enum Variant<C, O> {
    Open(Compound<C>),
    Redacted(O),
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Variant<C, C::Ok> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        match self {
            Self::Open(inner) => inner.serialize_field(value),
            Self::Redacted(_) => Ok(()),
        }
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        match self {
            Self::Open(inner) => inner.end(),
            Self::Redacted(ok) => Ok(ok),
        }
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Variant<C, C::Ok> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        match self {
            Self::Open(inner) => inner.serialize_field(key, value),
            Self::Redacted(_) => Ok(()),
        }
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        match self {
            Self::Open(inner) => inner.skip_field(key),
            Self::Redacted(_) => Ok(()),
        }
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        match self {
            Self::Open(inner) => inner.end(),
            Self::Redacted(ok) => Ok(ok),
        }
    }
}

macro_rules! elements {
    ($($trait:ident::$method:ident),*) => {$(
        impl<C: $trait> $trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                self.inner.$method(&Redacted::new(value))
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl<C: $trait> $trait for Compound<C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                if super::is_secret_static(key) {
                    super::count_redactions(1);
                    self.inner.serialize_field(key, REDACTED)
                } else {
                    self.inner.serialize_field(key, &Redacted::new(value))
                }
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

impl<C: SerializeMap> SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.redact_next = key_is_secret(key);
        self.inner.serialize_key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        if std::mem::take(&mut self.redact_next) {
            super::count_redactions(1);
            self.inner.serialize_value(REDACTED)
        } else {
            self.inner.serialize_value(&Redacted::new(value))
        }
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// Whether a map key is a string naming a secret.
fn key_is_secret<T: Serialize + ?Sized>(key: &T) -> bool {
    key.serialize(KeyName)
        .is_ok_and(|name| name.is_some_and(|name| super::is_secret_name(&name)))
}

/// Reads a map key's text: strings and chars; anything else has no name.
struct KeyName;

/// The error of a narrow serializer ([`KeyName`], the scalar one) on a value of a shape it does
/// not read: the caller takes its general path.
#[derive(Debug)]
pub(super) struct Unsupported;

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a shape this serializer reads")
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(_msg: T) -> Self {
        Unsupported
    }
}

macro_rules! not_text {
    ($($method:ident($($ty:ty),*);)*) => {$(
        fn $method(self, $(_: $ty),*) -> Result<Self::Ok, Unsupported> {
            Ok(None)
        }
    )*};
}

impl Serializer for KeyName {
    type Ok = Option<String>;
    type Error = Unsupported;
    type SerializeSeq = ser::Impossible<Option<String>, Unsupported>;
    type SerializeTuple = ser::Impossible<Option<String>, Unsupported>;
    type SerializeTupleStruct = ser::Impossible<Option<String>, Unsupported>;
    type SerializeTupleVariant = ser::Impossible<Option<String>, Unsupported>;
    type SerializeMap = ser::Impossible<Option<String>, Unsupported>;
    type SerializeStruct = ser::Impossible<Option<String>, Unsupported>;
    type SerializeStructVariant = ser::Impossible<Option<String>, Unsupported>;

    fn serialize_str(self, v: &str) -> Result<Self::Ok, Unsupported> {
        Ok(Some(v.to_owned()))
    }

    fn serialize_char(self, v: char) -> Result<Self::Ok, Unsupported> {
        Ok(Some(v.to_string()))
    }

    not_text! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Self::Ok, Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Self::Ok, Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<Self::Ok, Unsupported> {
        Ok(None)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Unsupported> {
        Err(Unsupported)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Unsupported> {
        Err(Unsupported)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    fn redacted<T: Serialize>(value: &T) -> String {
        serde_json::to_string(&Redacted::new(value)).unwrap()
    }

    #[derive(Serialize)]
    struct Login {
        user: String,
        token: String,
    }

    #[derive(Serialize)]
    struct Auth {
        token: String,
        scheme: String,
    }

    #[derive(Serialize)]
    struct Settings {
        model: String,
        max_tokens: u32,
        password: String,
        auth: Auth,
    }

    #[derive(Serialize)]
    enum Command {
        Connect { host: String, password: String },
        Key(Auth),
    }

    #[derive(Serialize)]
    struct Wrapper(Login);

    #[derive(Serialize)]
    enum Shaped {
        Token { value: String },
        Password(String, String),
        ApiKey(Auth),
        Plain { value: String },
    }

    #[test]
    fn a_secret_named_variant_is_hidden_whatever_its_shape() {
        let _lock = super::super::TEST_CONFIG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let auth = || Auth {
            token: "SECRET".into(),
            scheme: "SECRET".into(),
        };
        for (got, want) in [
            (
                redacted(&Shaped::Token {
                    value: "SECRET".into(),
                }),
                r#"{"Token":"[redacted]"}"#,
            ),
            (
                redacted(&Shaped::Password("SECRET".into(), "SECRET".into())),
                r#"{"Password":"[redacted]"}"#,
            ),
            (
                redacted(&Shaped::ApiKey(auth())),
                r#"{"ApiKey":"[redacted]"}"#,
            ),
            (
                redacted(&Shaped::Plain { value: "v".into() }),
                r#"{"Plain":{"value":"v"}}"#,
            ),
            (
                redacted(&json!({"password": {"old": "SECRET"}, "api_key": ["SECRET"], "k": [1]})),
                r#"{"api_key":"[redacted]","k":[1],"password":"[redacted]"}"#,
            ),
        ] {
            assert_eq!(got, want);
        }
    }

    #[derive(Serialize)]
    struct Renamed {
        #[serde(rename = "Authorization")]
        header: String,
        #[serde(flatten)]
        extra: BTreeMap<String, String>,
    }

    #[test]
    fn secrets_are_redacted_at_any_depth_and_the_rest_kept() {
        let _lock = super::super::TEST_CONFIG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let settings = Settings {
            model: "gpt".into(),
            max_tokens: 64,
            password: "SECRET".into(),
            auth: Auth {
                token: "SECRET".into(),
                scheme: "bearer".into(),
            },
        };
        let login = || Login {
            user: "u1".into(),
            token: "SECRET".into(),
        };
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "struct field",
                redacted(&login()),
                r#"{"user":"u1","token":"[redacted]"}"#,
            ),
            (
                "nested struct fields",
                redacted(&settings),
                r#"{"model":"gpt","max_tokens":64,"password":"[redacted]","auth":{"token":"[redacted]","scheme":"bearer"}}"#,
            ),
            (
                "map with string keys",
                redacted(&BTreeMap::from([("api_key", "SECRET"), ("model", "gpt")])),
                r#"{"api_key":"[redacted]","model":"gpt"}"#,
            ),
            (
                "array of objects",
                redacted(&vec![json!({"password": "SECRET"}), json!({"name": "n"})]),
                r#"[{"password":"[redacted]"},{"name":"n"}]"#,
            ),
            (
                "option of a struct",
                redacted(&Some(login())),
                r#"{"user":"u1","token":"[redacted]"}"#,
            ),
            (
                "struct enum variant",
                redacted(&Command::Connect {
                    host: "db".into(),
                    password: "SECRET".into(),
                }),
                r#"{"Connect":{"host":"db","password":"[redacted]"}}"#,
            ),
            (
                "newtype enum variant",
                redacted(&Command::Key(Auth {
                    token: "SECRET".into(),
                    scheme: "s".into(),
                })),
                r#"{"Key":{"token":"[redacted]","scheme":"s"}}"#,
            ),
            (
                "newtype struct",
                redacted(&Wrapper(login())),
                r#"{"user":"u1","token":"[redacted]"}"#,
            ),
            (
                "camelCase keys",
                redacted(
                    &json!({"accessToken": "SECRET", "refreshToken": "SECRET", "maxTokens": 5}),
                ),
                r#"{"accessToken":"[redacted]","maxTokens":5,"refreshToken":"[redacted]"}"#,
            ),
            (
                "a secret's value of any type",
                redacted(&json!({"secret": {"a": [1, 2]}, "session": 42})),
                r#"{"secret":"[redacted]","session":"[redacted]"}"#,
            ),
            (
                "non-string map keys pass",
                redacted(&BTreeMap::from([(1, "one")])),
                r#"{"1":"one"}"#,
            ),
            (
                "deep JSON values",
                redacted(
                    &json!({"a": {"b": {"c": {"client_secret": "SECRET", "d": [{"cookie": "SECRET"}]}}}}),
                ),
                r#"{"a":{"b":{"c":{"client_secret":"[redacted]","d":[{"cookie":"[redacted]"}]}}}}"#,
            ),
            (
                "tuple of structs",
                redacted(&(login(), 7)),
                r#"[{"user":"u1","token":"[redacted]"},7]"#,
            ),
            (
                "renamed and flattened fields",
                redacted(&Renamed {
                    header: "Bearer SECRET".into(),
                    extra: BTreeMap::from([
                        ("Set-Cookie".to_owned(), "SECRET".to_owned()),
                        ("x".to_owned(), "y".to_owned()),
                    ]),
                }),
                r#"{"Authorization":"[redacted]","Set-Cookie":"[redacted]","x":"y"}"#,
            ),
            (
                "hash map of structs",
                redacted(&HashMap::from([("only", login())])),
                r#"{"only":{"user":"u1","token":"[redacted]"}}"#,
            ),
            (
                "plain values untouched",
                redacted(&vec![1, 2, 3]),
                "[1,2,3]",
            ),
        ];
        for (name, got, expected) in cases {
            assert_eq!(got, expected, "{name}");
            assert!(!got.contains("SECRET"), "{name}: leaked");
        }
    }
}
