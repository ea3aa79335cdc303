//! The ledger's stored codes: what the databases hold and the IPC carries. The
//! catalogue words them; nothing here is meant for users.

stored_code! {
    /// The kind of a ledger account, which fixes its normal side.
    pub enum AccountKind {
        /// Grows with debits: the physical bank account's mirror.
        Asset => "asset",
        /// Grows with credits: what we owe, e.g. a customer's virtual sub-account,
        /// suspense (挂账), an internal pool.
        Liability => "liability",
        /// Grows with credits: earnings, e.g. fees kept.
        Income => "income",
        /// Grows with debits: costs, e.g. interest paid out of our own pocket.
        Expense => "expense",
    }
}

impl AccountKind {
    /// Whether the balance is read as debits − credits (asset, expense); otherwise
    /// credits − debits (liability, income).
    pub fn is_debit_normal(self) -> bool {
        matches!(self, Self::Asset | Self::Expense)
    }

    /// The sign a line amount has when it grows this account: `1` (a debit) for
    /// debit-normal kinds, `-1` (a credit) otherwise.
    pub fn growth_sign(self) -> i64 {
        if self.is_debit_normal() { 1 } else { -1 }
    }
}

stored_code! {
    /// A hold's state. A `Pending` hold past its expiry counts as `Expired`
    /// ([`super::Hold::status_at`]).
    pub enum HoldStatus {
        /// Reserving funds; may be posted (in parts), voided or expire.
        Pending => "pending",
        /// Fully posted.
        Posted => "posted",
        /// Released by a void; any part posted before stays posted.
        Voided => "voided",
        /// Released because its time ran out.
        Expired => "expired",
    }
}

stored_code! {
    /// A virtual sub-account's life-cycle state.
    pub enum VirtualStatus {
        /// Takes credits and debits.
        Active => "active",
        /// Frozen by an operator or a court order: no debits.
        Frozen => "frozen",
        /// Being closed: no new business, blockers being cleared.
        Closing => "closing",
        /// Closed with zero balance; the number waits out its quarantine.
        Closed => "closed",
        /// Held back after closing until the number may be reassigned.
        Quarantined => "quarantined",
    }
}

stored_code! {
    /// What a virtual sub-account is for.
    pub enum VirtualPurpose {
        /// A user's or merchant's wallet.
        UserWallet => "user_wallet",
        /// Funds held for an order until it settles.
        OrderEscrow => "order_escrow",
        /// A bidder's deposit (投标保证金), refunded with interest after the tender.
        BidDeposit => "bid_deposit",
        /// Our own: suspense, interest pool, fees.
        Internal => "internal",
    }
}

stored_code! {
    /// Who holds a virtual sub-account (the three-tier model, plus us).
    pub enum OwnerKind {
        /// A customer (客户): a person or company.
        Customer => "customer",
        /// A user (用户): a login identity of a customer.
        User => "user",
        /// A merchant or anchor enterprise in the tree.
        Merchant => "merchant",
        /// The platform itself.
        Internal => "internal",
    }
}

stored_code! {
    /// Why a transfer was posted.
    pub enum TransferKind {
        /// Money arrived at the physical account for an identified virtual account.
        CreditIn => "credit_in",
        /// Money arrived whose suffix matches nothing: parked in suspense.
        UnidentifiedIn => "unidentified_in",
        /// Between accounts of the book (including clearing suspense).
        InternalTransfer => "internal_transfer",
        /// Swept between a child and its parent in the tree.
        Sweep => "sweep",
        /// Posting (part of) a hold.
        HoldPost => "hold_post",
        /// Interest credited or allocated.
        Interest => "interest",
        /// Money paid back out of the physical account.
        Refund => "refund",
        /// Undoes an earlier transfer line by line (`reverses` names it).
        Reversal => "reversal",
        /// Opening balances when an account is taken over.
        Opening => "opening",
    }
}

stored_code! {
    /// The bank that keeps the physical account.
    pub enum Bank {
        /// 网商银行 (MYbank).
        Mybank => "mybank",
        /// 浙商银行 (China Zheshang Bank).
        Czbank => "czbank",
        /// 招商银行 (China Merchants Bank).
        Cmb => "cmb",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_text_and_serde() {
        for kind in TransferKind::ALL {
            assert_eq!(TransferKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(VirtualStatus::try_from("quarantined".to_owned()), Ok(VirtualStatus::Quarantined));
        assert!(HoldStatus::try_from("held".to_owned()).is_err());
        assert_eq!(Bank::ALL.map(Bank::as_str), ["mybank", "czbank", "cmb"]);
        assert_eq!(OwnerKind::ALL.len(), 4);
        assert_eq!(VirtualPurpose::BidDeposit.to_string(), "bid_deposit");
    }

    #[test]
    fn normal_sides() {
        assert!(AccountKind::Asset.is_debit_normal());
        assert!(AccountKind::Expense.is_debit_normal());
        assert!(!AccountKind::Liability.is_debit_normal());
        assert!(!AccountKind::Income.is_debit_normal());
        assert_eq!(AccountKind::Liability.growth_sign(), -1);
        assert_eq!(AccountKind::Asset.growth_sign(), 1);
    }
}
