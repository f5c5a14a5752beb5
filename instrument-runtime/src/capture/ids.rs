//! Finding the id of an excluded value without serializing it.
//!
//! [`find_ids`] drives a value's `Serialize` impl into a serializer that looks only at a
//! top-level `id` field (or key), and for a sequence at the first five elements' `id`s plus the
//! length. Every other field is skipped without being visited, so a 5 MB `content` costs nothing.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// At most this many ids are listed for a collection.
pub const MAX_LISTED_IDS: usize = 5;
/// Ids longer than this are not listed (an id is a short key, not content).
const MAX_ID_BYTES: usize = 128;

/// The ids found in an excluded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ids {
    /// The value has no `id` at the top level.
    None,
    /// The value's own `id`.
    One(String),
    /// A collection: the first elements' ids and the collection's length.
    Many {
        /// Ids of the first [`MAX_LISTED_IDS`] elements that have one.
        ids: Vec<String>,
        /// Number of elements in the collection.
        total: usize,
    },
}

/// Looks for the ids of `value` as described in the module docs.
pub fn find_ids<T: Serialize + ?Sized>(value: &T) -> Ids {
    match value.serialize(IdFinder {
        in_collection: false,
    }) {
        Ok(ids) | Err(Stop::Found(ids)) => ids,
        Err(Stop::Nothing) => Ids::None,
    }
}

/// Why the id search stopped early; never an error the user sees.
#[derive(Debug)]
pub(super) enum Stop {
    /// Everything needed was found; the rest of the value is skipped.
    Found(Ids),
    /// The value has no id where one is looked for.
    Nothing,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("id search stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        Stop::Nothing
    }
}

/// Writes the methods of a serializer that find nothing for the listed scalar kinds.
macro_rules! nothing_for {
    ($ok:expr; $($method:ident($($ty:ty)?)),* $(,)?) => {
        $(fn $method(self $(, _v: $ty)?) -> Result<Self::Ok, Self::Error> { Ok($ok) })*
    };
}

struct IdFinder {
    in_collection: bool,
}

impl ser::Serializer for IdFinder {
    type Ok = Ids;
    type Error = Stop;
    type SerializeSeq = SeqIds;
    type SerializeTuple = SeqIds;
    type SerializeTupleStruct = Impossible<Ids, Stop>;
    type SerializeTupleVariant = Impossible<Ids, Stop>;
    type SerializeMap = MapId;
    type SerializeStruct = StructId;
    type SerializeStructVariant = StructId;

    nothing_for!(Ids::None;
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_i128(i128), serialize_u8(u8), serialize_u16(u16),
        serialize_u32(u32), serialize_u64(u64), serialize_u128(u128), serialize_f32(f32),
        serialize_f64(f64), serialize_char(char), serialize_str(&str), serialize_bytes(&[u8]),
        serialize_none(), serialize_unit(),
    );

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Ids, Stop> {
        Ok(Ids::None)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<Ids, Stop> {
        Ok(Ids::None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Ids, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Ids, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<Ids, Stop> {
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqIds, Stop> {
        if self.in_collection {
            return Err(Stop::Nothing);
        }
        Ok(SeqIds {
            ids: Vec::new(),
            seen: 0,
            len,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqIds, Stop> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop::Nothing)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop::Nothing)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<MapId, Stop> {
        Ok(MapId {
            next_is_id: false,
            id: None,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<StructId, Stop> {
        Ok(StructId { id: None })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<StructId, Stop> {
        Ok(StructId { id: None })
    }
}

/// Collects the ids of a sequence's first elements and counts it.
struct SeqIds {
    ids: Vec<String>,
    seen: usize,
    len: Option<usize>,
}

impl SeqIds {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if self.seen < MAX_LISTED_IDS {
            if let Ok(Ids::One(id)) = value.serialize(IdFinder {
                in_collection: true,
            }) {
                self.ids.push(id);
            }
        } else if let Some(total) = self.len {
            // The length is known: nothing more to learn from the remaining elements.
            return Err(Stop::Found(Ids::Many {
                ids: std::mem::take(&mut self.ids),
                total,
            }));
        }
        self.seen += 1;
        Ok(())
    }

    fn finish(self) -> Ids {
        Ids::Many {
            ids: self.ids,
            total: self.len.unwrap_or(self.seen),
        }
    }
}

impl ser::SerializeSeq for SeqIds {
    type Ok = Ids;
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<Ids, Stop> {
        Ok(self.finish())
    }
}

impl ser::SerializeTuple for SeqIds {
    type Ok = Ids;
    type Error = Stop;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        self.element(value)
    }
    fn end(self) -> Result<Ids, Stop> {
        Ok(self.finish())
    }
}

/// Finds the `id` field of a struct, visiting no other field.
struct StructId {
    id: Option<String>,
}

impl StructId {
    fn field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) {
        if key == "id" && self.id.is_none() {
            self.id = value.serialize(IdText).ok().flatten();
        }
    }

    fn finish(self) -> Ids {
        self.id.map_or(Ids::None, Ids::One)
    }
}

impl ser::SerializeStruct for StructId {
    type Ok = Ids;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value);
        Ok(())
    }
    fn end(self) -> Result<Ids, Stop> {
        Ok(self.finish())
    }
}

impl ser::SerializeStructVariant for StructId {
    type Ok = Ids;
    type Error = Stop;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.field(key, value);
        Ok(())
    }
    fn end(self) -> Result<Ids, Stop> {
        Ok(self.finish())
    }
}

/// Finds the value under an `"id"` key of a map.
struct MapId {
    next_is_id: bool,
    id: Option<String>,
}

impl ser::SerializeMap for MapId {
    type Ok = Ids;
    type Error = Stop;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        self.next_is_id =
            self.id.is_none() && matches!(key.serialize(IdText), Ok(Some(k)) if k == "id");
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        if std::mem::take(&mut self.next_is_id) {
            self.id = value.serialize(IdText).ok().flatten();
        }
        Ok(())
    }
    fn end(self) -> Result<Ids, Stop> {
        Ok(self.id.map_or(Ids::None, Ids::One))
    }
}

/// Renders a scalar id (string, number, uuid, newtype of those) as text.
struct IdText;

fn short_id(text: String) -> Option<String> {
    (!text.is_empty() && text.len() <= MAX_ID_BYTES).then_some(text)
}

macro_rules! id_from_display {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<Option<String>, Stop> { Ok(short_id(v.to_string())) })*
    };
}

impl ser::Serializer for IdText {
    type Ok = Option<String>;
    type Error = Stop;
    type SerializeSeq = Impossible<Option<String>, Stop>;
    type SerializeTuple = Impossible<Option<String>, Stop>;
    type SerializeTupleStruct = Impossible<Option<String>, Stop>;
    type SerializeTupleVariant = Impossible<Option<String>, Stop>;
    type SerializeMap = Impossible<Option<String>, Stop>;
    type SerializeStruct = Impossible<Option<String>, Stop>;
    type SerializeStructVariant = Impossible<Option<String>, Stop>;

    id_from_display!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
    );

    fn serialize_str(self, v: &str) -> Result<Option<String>, Stop> {
        Ok((v.len() <= MAX_ID_BYTES)
            .then(|| v.to_owned())
            .and_then(short_id))
    }

    nothing_for!(None; serialize_bytes(&[u8]), serialize_none(), serialize_unit());

    fn serialize_unit_struct(self, _: &'static str) -> Result<Option<String>, Stop> {
        Ok(None)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Option<String>, Stop> {
        Ok(short_id(variant.to_owned()))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Option<String>, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Option<String>, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Option<String>, Stop> {
        Ok(None)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop::Nothing)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop::Nothing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::cell::Cell;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Message {
        id: String,
        content: String,
    }

    #[derive(Serialize)]
    struct NumericId {
        name: &'static str,
        id: u64,
    }

    /// A field that counts how often it is serialized.
    struct Counted<'a>(&'a Cell<usize>);
    impl Serialize for Counted<'_> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.set(self.0.get() + 1);
            s.serialize_str("payload")
        }
    }

    #[derive(Serialize)]
    struct Big<'a> {
        id: u32,
        payload: Counted<'a>,
    }

    fn msg(i: usize) -> Message {
        Message {
            id: format!("m{i}"),
            content: "x".repeat(1000),
        }
    }

    #[test]
    fn single_value_id() {
        assert_eq!(find_ids(&msg(1)), Ids::One("m1".into()));
        assert_eq!(
            find_ids(&NumericId { name: "a", id: 42 }),
            Ids::One("42".into())
        );
    }

    #[test]
    fn collection_lists_five_and_total() {
        let messages: Vec<Message> = (1..=12).map(msg).collect();
        assert_eq!(
            find_ids(&messages),
            Ids::Many {
                ids: vec![
                    "m1".into(),
                    "m2".into(),
                    "m3".into(),
                    "m4".into(),
                    "m5".into()
                ],
                total: 12
            }
        );
        assert_eq!(
            find_ids(&messages[..2]),
            Ids::Many {
                ids: vec!["m1".into(), "m2".into()],
                total: 2
            }
        );
    }

    #[test]
    fn other_fields_are_never_visited() {
        let visits = Cell::new(0);
        let items: Vec<Big> = (0..100)
            .map(|id| Big {
                id,
                payload: Counted(&visits),
            })
            .collect();
        assert!(matches!(find_ids(&items), Ids::Many { total: 100, .. }));
        assert_eq!(find_ids(&items[0]), Ids::One("0".into()));
        assert_eq!(visits.get(), 0);
    }

    #[test]
    fn map_id_and_missing_id() {
        let mut map = BTreeMap::new();
        map.insert("id", "abc");
        map.insert("other", "zzz");
        assert_eq!(find_ids(&map), Ids::One("abc".into()));
        assert_eq!(find_ids(&"plain string"), Ids::None);
        assert_eq!(find_ids(&Some(msg(7))), Ids::One("m7".into()));
    }
}
