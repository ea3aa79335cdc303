//! Every string the ops console shows, in Chinese (default) and English, and the
//! words for the typed codes the backend sends (errors, timeline events, reasons).
//!
//! Views never hard-code text: they ask for a [`T`] key, or for the words of a code
//! (`error_text`, `timeline_text`, …). Parameters are written `{name}` and filled
//! with [`fill`]. The backend uses this crate only for documents it writes for
//! people (the evidence pack), so a document and the screen say the same thing.

use serde::{Deserialize, Serialize};

/// UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

macro_rules! catalogue {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A catalogue key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum T { $($key),* }

        impl T {
            /// Every key, for completeness tests.
            pub const ALL: &'static [T] = &[$(T::$key),*];

            /// The text in `lang`.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((T::$key, Lang::Zh) => $zh, (T::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

mod error_words;
mod keys;
mod suspense_words;
mod words;

pub use error_words::*;
pub use keys::T;
pub use suspense_words::*;
pub use words::*;

/// The catalogue text for a stored code (account kind or status); unknown codes are
/// shown as they are, so new codes never disappear from the screen.
pub fn code_text(code: &str, lang: Lang) -> String {
    let key = match code {
        "cash" => T::KindCash,
        "red_packet" => T::KindRedPacket,
        "points" => T::KindPoints,
        "active" => T::StatusActive,
        "frozen" => T::StatusFrozen,
        "closed" => T::StatusClosed,
        "ended" => T::StatusEnded,
        "needs_resign" => T::StatusNeedsResign,
        "resign_required" => T::StatusResignRequired,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// Replaces each `{name}` in `template` with its value.
pub fn fill(template: &str, params: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_key_has_both_languages_and_same_parameters() {
        let params = |s: &str| {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect::<HashSet<_>>()
        };
        for key in T::ALL {
            let (zh, en) = (key.text(Lang::Zh), key.text(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty(), "{key:?}");
            assert_eq!(params(zh), params(en), "{key:?} parameters differ");
        }
    }

    #[test]
    fn fills_parameters() {
        assert_eq!(fill(T::BudgetLeft.text(Lang::En), &[("n", &3)]), "3 attempts left");
    }
}
