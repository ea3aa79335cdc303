//! Property tests: random operation sequences on a [`Book`] laid out as one
//! physical account with suspense, an interest pool and a tree of virtual accounts;
//! the rules must hold after every step. Plus interest allocation, numbering and
//! tree roll-ups on random input.

use super::*;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::BTreeMap;
use uuid::Uuid;

const PHYSICAL: AccountId = AccountId(Uuid::from_u128(1));
const SUSPENSE: AccountId = AccountId(Uuid::from_u128(2));
const INTEREST_POOL: AccountId = AccountId(Uuid::from_u128(3));
/// Platform → anchor → two merchants → bidders; the last one takes credits only.
const PARENTS: [Option<usize>; 7] = [None, Some(0), Some(1), Some(1), Some(2), Some(2), Some(3)];

fn virtual_account(i: usize) -> AccountId {
    AccountId(Uuid::from_u128(100 + i as u128))
}

#[derive(Debug, Clone)]
enum Op {
    CreditIn { to: usize, amount: i64 },
    Unidentified { amount: i64 },
    Identify { to: usize, amount: Amount },
    Internal { from: usize, to: usize, amount: Amount },
    Refund { from: usize, amount: Amount },
    BankInterest { amount: i64 },
    AllocateInterest { amount: Amount },
    PlaceHold { on: usize, amount: Amount, ttl_seconds: Option<i64> },
    PostHold { hold: Index, part: Amount, to: usize },
    VoidHold { hold: Index },
    ExpireHold { hold: Index },
    Reverse { transfer: Index },
    Repeat { transfer: Index },
    ReuseKey { transfer: Index },
    Advance { seconds: i64 },
}

/// An amount taken out of something: fixed fen (often too much), or a share of what
/// is there (so most operations can succeed).
#[derive(Debug, Clone, Copy)]
enum Amount {
    Fen(i64),
    Percent(i64),
}

impl Amount {
    fn of(self, there_minor: i64) -> i64 {
        match self {
            Self::Fen(fen) => fen,
            Self::Percent(percent) => (there_minor * percent / 100).max(1),
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0..PARENTS.len();
    let fen = 1i64..50_000;
    let amount =
        prop_oneof![1 => fen.clone().prop_map(Amount::Fen), 3 => (1i64..=100).prop_map(Amount::Percent)];
    prop_oneof![
        6 => (v.clone(), fen.clone()).prop_map(|(to, amount)| Op::CreditIn { to, amount }),
        1 => fen.prop_map(|amount| Op::Unidentified { amount }),
        1 => (v.clone(), amount.clone()).prop_map(|(to, amount)| Op::Identify { to, amount }),
        4 => (v.clone(), v.clone(), amount.clone()).prop_map(|(from, to, amount)| Op::Internal { from, to, amount }),
        2 => (v.clone(), amount.clone()).prop_map(|(from, amount)| Op::Refund { from, amount }),
        1 => (1i64..5_000).prop_map(|amount| Op::BankInterest { amount }),
        1 => amount.clone().prop_map(|amount| Op::AllocateInterest { amount }),
        3 => (v.clone(), amount.clone(), proptest::option::of(1i64..7_200))
            .prop_map(|(on, amount, ttl_seconds)| Op::PlaceHold { on, amount, ttl_seconds }),
        3 => (any::<Index>(), amount, v.clone()).prop_map(|(hold, part, to)| Op::PostHold { hold, part, to }),
        1 => any::<Index>().prop_map(|hold| Op::VoidHold { hold }),
        2 => any::<Index>().prop_map(|hold| Op::ExpireHold { hold }),
        2 => any::<Index>().prop_map(|transfer| Op::Reverse { transfer }),
        1 => any::<Index>().prop_map(|transfer| Op::Repeat { transfer }),
        1 => any::<Index>().prop_map(|transfer| Op::ReuseKey { transfer }),
        2 => (1i64..7_200).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// A random forest, listed in random order.
fn forest() -> impl Strategy<Value = Vec<TreeNode>> {
    proptest::collection::vec((any::<Index>(), any::<bool>(), -1_000_000i64..1_000_000), 1..40).prop_flat_map(
        |shape| {
            // Node i's parent is an earlier node (or none), so the links form a forest.
            let nodes: Vec<TreeNode> = shape
                .iter()
                .enumerate()
                .map(|(i, (pick, rooted, own_minor))| TreeNode {
                    id: AccountId(Uuid::from_u128(i as u128)),
                    parent: (i > 0 && !rooted).then(|| AccountId(Uuid::from_u128(pick.index(i) as u128))),
                    own_minor: *own_minor,
                })
                .collect();
            Just(nodes).prop_shuffle()
        },
    )
}

struct World {
    book: Book,
    now: DateTime<Utc>,
    holds: Vec<HoldId>,
    next: u128,
}

fn two_lines(
    kind: TransferKind,
    debit: AccountId,
    credit: AccountId,
    amount_minor: i64,
    key: String,
) -> NewTransfer {
    NewTransfer {
        kind,
        lines: vec![
            TransferLine { account: debit, amount_minor },
            TransferLine { account: credit, amount_minor: -amount_minor },
        ],
        idempotency_key: key,
        reverses: None,
    }
}

impl World {
    fn new() -> Self {
        let mut book = Book::new();
        let open = |book: &mut Book, id, kind, flags| book.open_account(id, kind, flags).unwrap();
        open(&mut book, PHYSICAL, AccountKind::Asset, AccountFlags::CUSTOMER);
        open(&mut book, SUSPENSE, AccountKind::Liability, AccountFlags::CUSTOMER);
        open(&mut book, INTEREST_POOL, AccountKind::Liability, AccountFlags::CUSTOMER);
        for i in 0..PARENTS.len() {
            let flags = AccountFlags { credit_only: i == PARENTS.len() - 1, ..AccountFlags::CUSTOMER };
            open(&mut book, virtual_account(i), AccountKind::Liability, flags);
        }
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        Self { book, now, holds: Vec::new(), next: 1_000 }
    }

    fn fresh(&mut self) -> u128 {
        self.next += 1;
        self.next
    }

    fn post(&mut self, transfer: NewTransfer) -> Result<Posted, BookProblem> {
        let id = TransferId(Uuid::from_u128(self.fresh()));
        self.book.post(id, transfer, self.now)
    }

    fn simple(
        &mut self,
        kind: TransferKind,
        debit: AccountId,
        credit: AccountId,
        amount: i64,
    ) -> Result<(), BookProblem> {
        let key = format!("k-{}", self.fresh());
        self.post(two_lines(kind, debit, credit, amount, key)).map(|_| ())
    }

    fn available(&self, account: AccountId) -> i64 {
        self.book.available(account, self.now).unwrap()
    }

    fn balances(&self) -> BTreeMap<AccountId, i64> {
        self.book.accounts().map(|(id, a)| (id, a.balance.posted_minor(a.kind))).collect()
    }

    /// Applies one operation and checks what that operation promises.
    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before = self.book.clone();
        let outcome: Result<(), BookProblem> = match *op {
            Op::CreditIn { to, amount } => {
                self.simple(TransferKind::CreditIn, PHYSICAL, virtual_account(to), amount)
            }
            Op::Unidentified { amount } => {
                self.simple(TransferKind::UnidentifiedIn, PHYSICAL, SUSPENSE, amount)
            }
            Op::Identify { to, amount } => {
                let amount = amount.of(self.available(SUSPENSE));
                self.simple(TransferKind::InternalTransfer, SUSPENSE, virtual_account(to), amount)
            }
            Op::Internal { from, to, amount } => {
                let amount = amount.of(self.available(virtual_account(from)));
                self.simple(
                    TransferKind::InternalTransfer,
                    virtual_account(from),
                    virtual_account(to),
                    amount,
                )
            }
            Op::Refund { from, amount } => {
                let amount = amount.of(self.available(virtual_account(from)));
                self.simple(TransferKind::Refund, virtual_account(from), PHYSICAL, amount)
            }
            Op::BankInterest { amount } => {
                self.simple(TransferKind::Interest, PHYSICAL, INTEREST_POOL, amount)
            }
            Op::AllocateInterest { amount } => {
                self.allocate_interest(amount.of(self.available(INTEREST_POOL)))
            }
            Op::PlaceHold { on, amount, ttl_seconds } => {
                let amount = amount.of(self.available(virtual_account(on)));
                let id = HoldId(Uuid::from_u128(self.fresh()));
                let expires_at = ttl_seconds.map(|s| self.now + TimeDelta::seconds(s));
                let placed = self.book.place_hold(id, virtual_account(on), amount, expires_at, self.now);
                if placed.is_ok() {
                    self.holds.push(id);
                    prop_assert_eq!(
                        self.book.available(virtual_account(on), self.now).unwrap(),
                        before.available(virtual_account(on), self.now).unwrap() - amount
                    );
                }
                placed
            }
            Op::PostHold { hold, part, to } if !self.holds.is_empty() => {
                let hold = self.holds[hold.index(self.holds.len())];
                let (id, key) = (TransferId(Uuid::from_u128(self.fresh())), format!("h-{}", self.fresh()));
                let held_account = self.book.hold(hold).unwrap().account;
                let part = part.of(self.book.hold(hold).unwrap().remaining_minor(self.now));
                let posted = self.book.post_hold(hold, part, virtual_account(to), id, key, self.now);
                if posted.is_ok() {
                    // Posting a hold moves money but leaves the held account's available as it was.
                    prop_assert_eq!(
                        self.book.available(held_account, self.now).unwrap(),
                        before.available(held_account, self.now).unwrap()
                    );
                }
                posted.map(|_| ())
            }
            Op::VoidHold { hold } if !self.holds.is_empty() => {
                self.book.void_hold(self.holds[hold.index(self.holds.len())], self.now)
            }
            Op::ExpireHold { hold } if !self.holds.is_empty() => {
                self.book.expire_hold(self.holds[hold.index(self.holds.len())], self.now)
            }
            Op::Reverse { transfer } if !self.book.transfers().is_empty() => self.reverse(transfer)?,
            Op::Repeat { transfer } if !self.book.transfers().is_empty() => {
                let original = self.book.transfers()[transfer.index(self.book.transfers().len())].clone();
                let again = match original.hold {
                    Some(hold) => {
                        let to = original.body.lines[1].account;
                        let part = original.body.lines[1].amount_minor.abs();
                        let id = TransferId(Uuid::from_u128(self.fresh()));
                        self.book.post_hold(
                            hold,
                            part,
                            to,
                            id,
                            original.body.idempotency_key.clone(),
                            self.now,
                        )
                    }
                    None => self.post(original.body.clone()),
                };
                prop_assert_eq!(again, Ok(Posted::Repeat(original.id)));
                prop_assert_eq!(&self.book, &before);
                Ok(())
            }
            Op::ReuseKey { transfer } if !self.book.transfers().is_empty() => {
                let original = self.book.transfers()[transfer.index(self.book.transfers().len())].clone();
                let mut other = original.body.clone();
                other.kind = TransferKind::Opening;
                other.reverses = None;
                let reused = self.post(other);
                let expected = BookProblem::KeyReused {
                    idempotency_key: original.body.idempotency_key,
                    first: original.id,
                };
                prop_assert_eq!(reused, Err(expected));
                Ok(())
            }
            Op::Advance { seconds } => {
                self.now += TimeDelta::seconds(seconds);
                Ok(())
            }
            _ => Ok(()),
        };
        if outcome.is_err() {
            prop_assert_eq!(&self.book, &before, "a refused {:?} changed the book", op);
        }
        Ok(())
    }

    /// Splits `amount` of the interest pool over the virtual accounts by balance.
    fn allocate_interest(&mut self, amount: i64) -> Result<(), BookProblem> {
        let products: Vec<(AccountId, u128)> = (0..PARENTS.len())
            .map(|i| {
                (
                    virtual_account(i),
                    u128::try_from(self.book.balance(virtual_account(i)).unwrap()).unwrap_or(0),
                )
            })
            .collect();
        let Ok(shares) = allocate(amount, &products) else { return Ok(()) };
        let mut lines = vec![TransferLine { account: INTEREST_POOL, amount_minor: amount }];
        lines.extend(
            shares
                .iter()
                .filter(|(_, s)| *s > 0)
                .map(|&(account, s)| TransferLine { account, amount_minor: -s }),
        );
        let key = format!("interest-{}", self.fresh());
        self.post(NewTransfer { kind: TransferKind::Interest, lines, idempotency_key: key, reverses: None })
            .map(|_| ())
    }

    /// Reverses a transfer; on success every balance moved back by exactly its lines.
    fn reverse(&mut self, pick: Index) -> Result<Result<(), BookProblem>, TestCaseError> {
        let original = self.book.transfers()[pick.index(self.book.transfers().len())].clone();
        let before = self.balances();
        let key = format!("undo-{}", self.fresh());
        let outcome = self.post(reversal_of(&original, key));
        match &outcome {
            Ok(posted) => {
                prop_assert_eq!(self.book.reversed_by(original.id), Some(posted.id()));
                let mut expected = before;
                for line in &original.body.lines {
                    let kind = self.book.account(line.account).unwrap().kind;
                    *expected.get_mut(&line.account).unwrap() -= line.amount_minor * kind.growth_sign();
                }
                prop_assert_eq!(self.balances(), expected);
            }
            Err(BookProblem::AlreadyReversed { transfer, .. }) => prop_assert_eq!(*transfer, original.id),
            Err(_) => {}
        }
        Ok(outcome.map(|_| ()))
    }

    /// The rules that hold after every step.
    fn check(&self) -> Result<(), TestCaseError> {
        for transfer in self.book.transfers() {
            let sum: i128 = transfer.body.lines.iter().map(|l| i128::from(l.amount_minor)).sum();
            prop_assert_eq!(sum, 0);
            prop_assert_eq!(transfer.body.validate(), Ok(()));
        }
        let replayed = replay(self.book.transfers()).unwrap();
        for (id, account) in self.book.accounts() {
            prop_assert_eq!(replayed.get(&id).copied().unwrap_or_default(), account.balance);
            if account.flags.available_not_below_zero {
                prop_assert!(self.book.available(id, self.now).unwrap() >= 0, "{} overdrawn", id);
            }
        }
        let own: Vec<i64> =
            (0..PARENTS.len()).map(|i| self.book.balance(virtual_account(i)).unwrap()).collect();
        let physical = self.book.balance(PHYSICAL).unwrap();
        let internal = self.book.balance(INTEREST_POOL).unwrap();
        let suspense = self.book.balance(SUSPENSE).unwrap();
        prop_assert_eq!(check_invariant(physical, &own, internal, suspense), Ok(()));
        let nodes: Vec<TreeNode> = (0..PARENTS.len())
            .map(|i| TreeNode {
                id: virtual_account(i),
                parent: PARENTS[i].map(virtual_account),
                own_minor: own[i],
            })
            .collect();
        let subtrees = subtree_balances(&nodes).unwrap();
        prop_assert_eq!(check_rollup(&nodes, &subtrees), Ok(vec![]));
        // The one root's subtree is every virtual account: the physical invariant again, through the tree.
        prop_assert_eq!(
            check_invariant(physical, &[subtrees[&virtual_account(0)]], internal, suspense),
            Ok(())
        );
        Ok(())
    }
}

proptest! {
    // No regression files: failures print their minimal input, and this crate keeps no such folder.
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_every_ledger_rule(ops in proptest::collection::vec(op(), 1..80)) {
        let mut world = World::new();
        let start = business_date(world.now);
        for op in &ops {
            world.apply(op)?;
            world.check()?;
        }
        // The daily series ends on today's balance for every account.
        let period = Period::new(start, business_date(world.now)).unwrap();
        for (id, _) in world.book.accounts() {
            let series = world.book.daily_balances(id, period).unwrap();
            prop_assert_eq!(series.last().map(|d| d.balance_minor), Some(world.book.balance(id).unwrap()));
        }
    }

    #[test]
    fn a_reversal_restores_every_balance(
        credits in proptest::collection::vec((0..PARENTS.len(), 1i64..10_000), 1..8),
        // The last account takes credits only, so a reversal could not debit it.
        from in 0..PARENTS.len() - 1,
        to in 0..PARENTS.len() - 1,
        amount in 1i64..10_000,
    ) {
        let mut world = World::new();
        for (to, amount) in credits {
            world.simple(TransferKind::CreditIn, PHYSICAL, virtual_account(to), amount).unwrap();
        }
        let before = world.book.clone();
        let posted = world.simple(TransferKind::InternalTransfer, virtual_account(from), virtual_account(to), amount);
        prop_assume!(posted.is_ok());
        let original = world.book.transfers().last().unwrap().clone();
        world.post(reversal_of(&original, "undo".into())).unwrap();
        for (id, account) in before.accounts() {
            prop_assert_eq!(world.book.balance(id).unwrap(), account.balance.posted_minor(account.kind));
        }
    }

    #[test]
    fn interest_allocation_is_exact_and_deterministic(
        raw in proptest::collection::btree_map(any::<u128>(), 0u128..1_000_000_000_000, 1..30),
        interest in 1i64..1_000_000_000_000,
        seed in any::<u64>(),
    ) {
        let products: Vec<(AccountId, u128)> = raw.into_iter().map(|(id, p)| (AccountId(Uuid::from_u128(id)), p)).collect();
        let total: u128 = products.iter().map(|(_, p)| p).sum();
        let shares = allocate(interest, &products);
        if total == 0 {
            prop_assert_eq!(shares, Err(InterestProblem::AllProductsZero));
            return Ok(());
        }
        let shares = shares.unwrap();
        prop_assert_eq!(shares.iter().map(|(_, s)| *s).sum::<i64>(), interest);
        prop_assert_eq!(allocate(interest, &products).unwrap(), shares.clone());
        // Shuffled by a seeded rotation and reversal: same answer.
        let mut shuffled = products.clone();
        let len = shuffled.len();
        shuffled.rotate_left(usize::try_from(seed % len as u64).unwrap());
        if seed % 2 == 0 {
            shuffled.reverse();
        }
        prop_assert_eq!(allocate(interest, &shuffled).unwrap(), shares.clone());
        // Each share is its exact proportion rounded down, or one fen more.
        let by_account: BTreeMap<AccountId, u128> = products.into_iter().collect();
        for (account, share) in shares {
            let floor = (interest as u128 * by_account[&account] / total) as i64;
            prop_assert!(share == floor || share == floor + 1, "{} got {} for floor {}", account, share, floor);
        }
    }

    #[test]
    fn interest_is_the_same_for_any_order_of_input(
        products in proptest::collection::vec(0u128..1_000, 1..12).prop_shuffle(),
        interest in 1i64..10_000,
    ) {
        let accounts: Vec<(AccountId, u128)> =
            products.iter().enumerate().map(|(i, p)| (AccountId(Uuid::from_u128(i as u128)), *p)).collect();
        prop_assume!(accounts.iter().any(|(_, p)| *p > 0));
        let mut sorted = accounts.clone();
        sorted.sort();
        prop_assert_eq!(allocate(interest, &accounts).unwrap(), allocate(interest, &sorted).unwrap());
    }

    #[test]
    fn numbers_round_trip_and_catch_any_single_typo(
        physical in "[0-9]{1,20}",
        suffix_len in 1u8..=19,
        raw_suffix in any::<u64>(),
        position in any::<Index>(),
        bump in 1u8..10,
    ) {
        let scheme = NumberingScheme::new(physical, suffix_len).unwrap();
        let suffix = raw_suffix % scheme.max_suffix().saturating_add(1).max(1);
        let number = scheme.number_for(suffix).unwrap();
        prop_assert_eq!(number.len(), scheme.number_len());
        prop_assert_eq!(scheme.parse(&number), Ok(suffix));
        let mut typo = number.into_bytes();
        let i = position.index(typo.len());
        typo[i] = b'0' + (typo[i] - b'0' + bump) % 10;
        prop_assert_eq!(scheme.parse(&String::from_utf8(typo).unwrap()), Err(NumberProblem::BadCheckDigit));
    }

    #[test]
    fn subtrees_match_a_walk_up_from_every_node(nodes in forest()) {
        let subtrees = subtree_balances(&nodes).unwrap();
        let parents: BTreeMap<AccountId, Option<AccountId>> = nodes.iter().map(|n| (n.id, n.parent)).collect();
        let mut walked: BTreeMap<AccountId, i64> = BTreeMap::new();
        for node in &nodes {
            let mut at = Some(node.id);
            while let Some(id) = at {
                *walked.entry(id).or_default() += node.own_minor;
                at = parents[&id];
            }
        }
        prop_assert_eq!(&subtrees, &walked);
        prop_assert_eq!(check_rollup(&nodes, &subtrees), Ok(vec![]));
        let roots: i64 = nodes.iter().filter(|n| n.parent.is_none()).map(|n| subtrees[&n.id]).sum();
        prop_assert_eq!(roots, nodes.iter().map(|n| n.own_minor).sum::<i64>());
    }
}
