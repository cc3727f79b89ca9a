//! JSON from a job, parsed within a budget: a streaming parse (serde_json from a reader) into
//! a `serde_json::Value` that stops at the first value over the budget, so a report of
//! millions of tiny values never becomes millions of allocations. Strings are cleaned and cut
//! while they are read ([`super::untrusted::for_storage`]).
//!
//! What it holds at most: `max_values` values (about 100 bytes each with their map slot) plus
//! `max_total_chars` characters of string values and the (cut) keys, plus one string's raw
//! bytes in the parser's scratch buffer.

use std::cell::Cell;
use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};

use super::untrusted::for_storage;

/// How much one document may hold.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Values of any kind (containers included) in the whole document.
    pub max_values: usize,
    /// Nesting of arrays and objects.
    pub max_depth: usize,
    /// Characters kept of a string value (longer ones are cut, marked `…`).
    pub max_string_chars: usize,
    /// Characters kept of all string values together; once used up, every further string
    /// is cut to `…`.
    pub max_total_chars: usize,
    /// Characters kept of an object key.
    pub max_key_chars: usize,
}

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Over the budget; the text names the limit (it may be shown to the student).
    OverBudget(String),
    /// Not JSON (for the log only).
    Syntax(String),
}

/// Parses one JSON document from `reader` within `budget`. Trailing non-whitespace is refused.
pub fn parse(reader: impl Read, budget: Budget) -> Result<Json, Refused> {
    let state = State {
        budget,
        values: Cell::new(0),
        chars_left: Cell::new(budget.max_total_chars),
        over: Cell::new(None),
    };
    let mut de = serde_json::Deserializer::from_reader(reader);
    let parsed = Seed {
        state: &state,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    match parsed {
        Ok(v) => Ok(v),
        Err(e) => match state.over.take() {
            Some(limit) => Err(Refused::OverBudget(limit)),
            None => Err(Refused::Syntax(e.to_string())),
        },
    }
}

struct State {
    budget: Budget,
    values: Cell<usize>,
    chars_left: Cell<usize>,
    /// Set when the budget stopped the parse (serde's error then only says "custom").
    over: Cell<Option<String>>,
}

impl State {
    fn count<E: de::Error>(&self) -> Result<(), E> {
        let n = self.values.get() + 1;
        if n > self.budget.max_values {
            return Err(self.stop(format!("more than {} JSON values", self.budget.max_values)));
        }
        self.values.set(n);
        Ok(())
    }

    fn stop<E: de::Error>(&self, why: String) -> E {
        let e = E::custom(&why);
        self.over.set(Some(why));
        e
    }
}

#[derive(Clone, Copy)]
struct Seed<'a> {
    state: &'a State,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Json;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        d.deserialize_any(self)
    }
}

impl Seed<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        self.state.count()?;
        if self.depth >= self.state.budget.max_depth {
            return Err(self.state.stop(format!(
                "nested deeper than {} levels",
                self.state.budget.max_depth
            )));
        }
        Ok(Seed {
            state: self.state,
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        self.state.count()?;
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        self.state.count()?;
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        self.state.count()?;
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        self.state.count()?;
        Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        self.state.count()?;
        let left = self.state.chars_left.get();
        let kept = for_storage(v, self.state.budget.max_string_chars.min(left));
        self.state
            .chars_left
            .set(left.saturating_sub(kept.chars().count()));
        Ok(Json::String(kept))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        self.state.count()?;
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        while let Some(k) = map.next_key_seed(Key(self.state))? {
            let v = map.next_value_seed(inner)?;
            out.insert(k, v);
        }
        Ok(Json::Object(out))
    }
}

/// An object key, cleaned and cut like a string.
struct Key<'a>(&'a State);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(for_storage(v, self.0.budget.max_key_chars))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const B: Budget = Budget {
        max_values: 10,
        max_depth: 3,
        max_string_chars: 4,
        max_total_chars: 7,
        max_key_chars: 2,
    };

    fn p(s: &str) -> Result<Json, Refused> {
        parse(s.as_bytes(), B)
    }

    #[test]
    fn within_the_budget() {
        assert_eq!(
            p(r#"{"abc": ["x\u001b\u202e", 1, -2, 2.5, null, true]}"#).unwrap(),
            json!({"ab…": ["x", 1, -2, 2.5, null, true]})
        );
        assert_eq!(p(r#""abcdef""#).unwrap(), json!("abcd…"));
        // Seven characters of text in all: the rest is cut.
        assert_eq!(
            p(r#"["abcd", "efgh", "ijkl", ""]"#).unwrap(),
            json!(["abcd", "efg…", "…", ""])
        );
        // Key order kept.
        assert_eq!(
            p(r#"{"z":1,"a":2}"#).unwrap().to_string(),
            r#"{"z":1,"a":2}"#
        );
    }

    #[test]
    fn over_the_budget_names_the_limit() {
        assert_eq!(
            p("[0,0,0,0,0,0,0,0,0,0,0]").unwrap_err(),
            Refused::OverBudget("more than 10 JSON values".into())
        );
        assert_eq!(
            p("[[[[1]]]]").unwrap_err(),
            Refused::OverBudget("nested deeper than 3 levels".into())
        );
        // 16 million zeros stop at the first value over the budget.
        let big = std::iter::once(b'[')
            .chain(std::iter::repeat_n(*b"0,", 16_000_000).flatten())
            .chain(*b"0]");
        let reader = std::io::Cursor::new(big.collect::<Vec<u8>>());
        assert!(matches!(parse(reader, B), Err(Refused::OverBudget(_))));
    }

    #[test]
    fn syntax_errors_and_non_finite_numbers() {
        for bad in [
            "{",
            "[1] x",
            "NaN",
            "{\"a\": Infinity}",
            "1e999",
            "\"\\ud800\"",
        ] {
            assert!(matches!(p(bad), Err(Refused::Syntax(_))), "{bad}");
        }
    }
}
