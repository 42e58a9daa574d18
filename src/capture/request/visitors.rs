//! The serde visitors of the one-pass read: the body's top-level members and the lenient
//! scalars they hold. Messages and their content blocks are in [`content`].

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{PREFIX_BYTES, SHORT_STRING_BYTES, State, StreamOptionsShape, push_prefix};

/// Implements the `visit_*` methods a lenient visitor does not care about: scalars are ignored,
/// arrays and objects drained with `IgnoredAny`, and `$ret` returned.
macro_rules! ignore_visits {
    ($ret:expr => $($kind:ident)*) => { $(ignore_visits!(@one $ret, $kind);)* };
    (@one $ret:expr, bool) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, i64) => {
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, u64) => {
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, f64) => {
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, unit) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, str) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($ret) }
    };
    (@one $ret:expr, seq) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok($ret)
        }
    };
    (@one $ret:expr, map) => {
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($ret)
        }
    };
}

// Declared after the macro, which it uses too.
mod content;

use content::{Content, Instruction, Messages};

/// The top-level members agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum TopKey {
    Model,
    Stream,
    MaxTokens,
    MaxCompletionTokens,
    MaxOutputTokens,
    Tools,
    Messages,
    Input,
    System,
    Instructions,
    Metadata,
    StreamOptions,
    /// Gemini: the messages.
    Contents,
    /// Gemini: the system prompt, `{"parts": [{"text": …}]}`.
    #[serde(rename = "systemInstruction")]
    SystemInstruction,
    /// Gemini: `maxOutputTokens` and the other generation settings.
    #[serde(rename = "generationConfig")]
    GenerationConfig,
    #[serde(other)]
    Other,
}

/// Seed for the whole body.
pub(super) struct Root<'s>(pub(super) &'s mut State);

impl<'de> DeserializeSeed<'de> for Root<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Root<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        while let Some(key) = map.next_key::<TopKey>()? {
            match key {
                TopKey::Model => {
                    st.model = map.next_value_seed(Scalar(SHORT_STRING_BYTES))?.string()
                }
                TopKey::Stream => st.stream = map.next_value_seed(Scalar(0))?.bool(),
                TopKey::MaxTokens => st.max_tokens = map.next_value_seed(Scalar(0))?.u64(),
                TopKey::MaxCompletionTokens => {
                    st.max_completion_tokens = map.next_value_seed(Scalar(0))?.u64();
                }
                TopKey::MaxOutputTokens => {
                    st.max_output_tokens = map.next_value_seed(Scalar(0))?.u64();
                }
                TopKey::Tools => st.tools = map.next_value_seed(CountSeq)?,
                TopKey::Messages | TopKey::Input | TopKey::Contents => {
                    map.next_value_seed(Messages(&mut *st))?
                }
                TopKey::SystemInstruction => {
                    st.scratch.reset(false);
                    map.next_value_seed(Instruction(&mut st.scratch))?;
                    st.system_field = st.scratch.text();
                }
                TopKey::GenerationConfig => {
                    map.next_value_seed(GenerationConfig(&mut *st))?;
                }
                TopKey::System => {
                    st.scratch.reset(false);
                    map.next_value_seed(Content(&mut st.scratch))?;
                    st.system_field = st.scratch.text();
                }
                TopKey::Instructions => {
                    st.instructions = map.next_value_seed(Scalar(PREFIX_BYTES))?.string();
                }
                TopKey::Metadata => map.next_value_seed(Metadata(&mut *st))?,
                TopKey::StreamOptions => map.next_value_seed(StreamOptions(&mut *st))?,
                TopKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A scalar read leniently: a string (kept up to the seed's byte cap), bool or unsigned
/// integer; anything else is skipped.
struct Scalar(usize);

/// What [`Scalar`] found.
enum ScalarValue {
    Str(String),
    Bool(bool),
    U64(u64),
    Other,
}

impl ScalarValue {
    fn string(self) -> Option<String> {
        match self {
            ScalarValue::Str(s) => Some(s),
            _ => None,
        }
    }
    fn bool(self) -> Option<bool> {
        match self {
            ScalarValue::Bool(b) => Some(b),
            _ => None,
        }
    }
    fn u64(self) -> Option<u64> {
        match self {
            ScalarValue::U64(n) => Some(n),
            _ => None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Scalar {
    type Value = ScalarValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ScalarValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = ScalarValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarValue, E> {
        let mut s = String::new();
        push_prefix(&mut s, v, self.0);
        Ok(ScalarValue::Str(s))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarValue, E> {
        Ok(ScalarValue::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarValue, E> {
        Ok(ScalarValue::U64(v))
    }
    ignore_visits!(ScalarValue::Other => i64 f64 unit seq map);
}

/// Counts an array's elements (anything else counts 0).
struct CountSeq;

impl<'de> DeserializeSeed<'de> for CountSeq {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CountSeq {
    type Value = u64;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<u64, A::Error> {
        let mut n = 0;
        while a.next_element::<IgnoredAny>()?.is_some() {
            n += 1;
        }
        Ok(n)
    }
    ignore_visits!(0 => bool i64 u64 f64 unit str map);
}

/// The members of `metadata` agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum MetadataKey {
    UserId,
    #[serde(other)]
    Other,
}

/// Anthropic `metadata`: only `user_id`.
struct Metadata<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Metadata<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Metadata<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metadata object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<MetadataKey>()? {
            match key {
                MetadataKey::UserId => {
                    self.0.metadata_user_id =
                        map.next_value_seed(Scalar(SHORT_STRING_BYTES))?.string();
                }
                MetadataKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit str seq);
}

/// The members of Gemini's `generationConfig` agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier)]
enum GenerationConfigKey {
    #[serde(rename = "maxOutputTokens")]
    MaxOutputTokens,
    #[serde(other)]
    Other,
}

/// Gemini `generationConfig`: only `maxOutputTokens`.
struct GenerationConfig<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for GenerationConfig<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for GenerationConfig<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a generationConfig object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<GenerationConfigKey>()? {
            match key {
                GenerationConfigKey::MaxOutputTokens => {
                    self.0.max_output_tokens = map.next_value_seed(Scalar(0))?.u64();
                }
                GenerationConfigKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    ignore_visits!(() => bool i64 u64 f64 unit str seq);
}

/// The members of `stream_options` agentprof reads.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum StreamOptionsKey {
    IncludeUsage,
    #[serde(other)]
    Other,
}

/// OpenAI `stream_options`: its shape and `include_usage`.
struct StreamOptions<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for StreamOptions<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StreamOptions<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a stream_options object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let st = self.0;
        st.stream_options = StreamOptionsShape::Object;
        st.include_usage = None;
        while let Some(key) = map.next_key::<StreamOptionsKey>()? {
            match key {
                StreamOptionsKey::IncludeUsage => {
                    st.include_usage = map.next_value_seed(Scalar(0))?.bool();
                }
                StreamOptionsKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.stream_options = StreamOptionsShape::Other;
        self.0.include_usage = None;
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        while a.next_element::<IgnoredAny>()?.is_some() {}
        self.visit_unit()
    }
}
