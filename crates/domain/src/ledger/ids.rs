//! Ids of ledger objects: UUIDv7 made by the caller (the domain has no clock or RNG).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! ledger_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

ledger_id! {
    /// A ledger account: a virtual sub-account, the physical account's mirror, an
    /// internal pool or suspense. Ordered by its bytes (ties in interest allocation
    /// go to the smaller id).
    AccountId
}

ledger_id! {
    /// A posted transfer.
    TransferId
}

ledger_id! {
    /// A hold (冻结) on an account.
    HoldId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_bare_uuids_and_order_by_bytes() {
        let low = AccountId(Uuid::from_u128(1));
        let high = AccountId(Uuid::from_u128(2));
        assert!(low < high);
        let json = serde_json::to_string(&low).unwrap();
        assert_eq!(json, "\"00000000-0000-0000-0000-000000000001\"");
        assert_eq!(serde_json::from_str::<AccountId>(&json).unwrap(), low);
        assert_eq!(HoldId::from(Uuid::from_u128(3)).to_string(), "00000000-0000-0000-0000-000000000003");
    }
}
