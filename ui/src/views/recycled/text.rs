//! Catalogue keys for case values the recycled views show (the catalogue words
//! the backend's codes; this adds the view's own choices).

use crate::i18n::T;
use domain::cases::QueueSort;

pub use crate::i18n::{
    case_source as source_text, case_status as status_text, not_recycled_reason as reason_text,
};

pub(super) fn sort_text(s: QueueSort) -> T {
    match s {
        QueueSort::RiskDesc => T::SortRisk,
        QueueSort::OldestFirst => T::SortOldest,
        QueueSort::NewestFirst => T::SortNewest,
    }
}
