//! Tests of the matching engine: names, tolerances, windows, every cardinality,
//! ambiguity, the standard rule set, determinism, suggestions, and a timed run.

use super::*;
use proptest::prelude::*;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn uid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn line(n: u128, amount: i64, booked: &str) -> BankLine {
    BankLine {
        id: uid(n),
        amount_minor: amount,
        booking_date: day(booked),
        bank_ref: format!("B{n}"),
        end_to_end: None,
        counterparty_name: None,
        remittance: None,
        addressed_account: None,
        our_ref: None,
        fee_minor: 0,
    }
}

fn item(n: u128, amount: i64, from: &str, to: &str) -> OurItem {
    OurItem {
        id: uid(n),
        amount_minor: amount,
        date_from: day(from),
        date_to: day(to),
        reference: None,
        counterparty_name: None,
        virtual_number: None,
        expected_fee_minor: 0,
    }
}

fn rule(code: &str, conditions: Vec<Condition>, confirm: bool) -> Rule {
    Rule {
        code: code.into(),
        conditions,
        cardinality: Cardinality::OneToOne,
        group_by: None,
        max_group: 1,
        confirm,
    }
}

fn grouped(code: &str, conditions: Vec<Condition>, cardinality: Cardinality, key: GroupKey) -> Rule {
    Rule { code: code.into(), conditions, cardinality, group_by: Some(key), max_group: 5, confirm: false }
}

fn set(rules: Vec<Rule>) -> RuleSet {
    RuleSet { rules }
}

const EXACT: Condition = Condition::AmountWithin { tolerance: Tolerance::Exact };

fn pairs(plan: &Plan) -> Vec<(Vec<Uuid>, Vec<Uuid>, &str, MatchStatus)> {
    plan.matches.iter().map(|m| (m.lines.clone(), m.items.clone(), m.rule.as_str(), m.status)).collect()
}

// ---------------------------------------------------------------- names

#[test]
fn name_similarity_cases() {
    assert_eq!(similarity_percent("张三", "张 三"), 100);
    assert_eq!(similarity_percent("杭州某某科技有限公司", "杭州某某科技"), 100);
    let p = similarity_percent("张三", "张山");
    assert!((50..80).contains(&p), "{p}");
    assert_eq!(similarity_percent("上海某某股份有限公司", "上海某某"), 100);
    assert_eq!(similarity_percent("北京某某有限责任公司", "北京某某公司"), 100);
    assert_eq!(similarity_percent("ＡＢＣ　Trading", "abc trading"), 100);
    assert_eq!(similarity_percent("Acme Co., Ltd.", "ACME"), 100);
    assert_eq!(similarity_percent("Acme Company Limited", "acme"), 100);
    // `co` inside a word is not a company form.
    assert!(similarity_percent("Tesco", "Tes") < 100);
    // The company form alone is kept, so it still compares.
    assert_eq!(normalise_name("有限公司"), "有限公司");
    assert_eq!(normalise_name(" 杭州（某某）科技·有限公司 "), "杭州某某科技");
    assert_eq!(similarity_percent("", "张三"), 0);
    assert_eq!(similarity_percent("王五", "赵六"), 0);
    // One edit in eight characters: 87 %.
    assert_eq!(similarity_percent("杭州某某网络科技", "杭州某某网路科技"), 87);
}

#[test]
fn references_are_found_in_remittance_words() {
    let mut l = line(1, 100, "2024-05-01");
    let it = |r: &str| OurItem { reference: Some(r.into()), ..item(2, 100, "2024-05-01", "2024-05-01") };
    let rules = set(vec![rule("r", vec![Condition::ReferenceEquals, EXACT], true)]);
    let found = |l: &BankLine, r: &str| plan(&rules, std::slice::from_ref(l), &[it(r)]).matches.len() == 1;
    for text in [
        "货款 ORD 2024 0001，谢谢",
        "货款ORD20240001",
        "订单号:ord20240001",
        "ＯＲＤ２０２４０００１",
        "pay for ORD20240001.",
    ] {
        l.remittance = Some(text.into());
        assert!(found(&l, "ORD20240001"), "{text}");
    }
    for text in ["XORD20240001", "ORD202400012", "ORD2024 / 0001"] {
        l.remittance = Some(text.into());
        assert!(!found(&l, "ORD20240001"), "{text}");
    }
    l.remittance = None;
    l.our_ref = Some(" ord-7 ".into());
    assert!(found(&l, "ORD-7"));
    l.our_ref = None;
    l.end_to_end = Some("E2E 99".into());
    assert!(found(&l, "e2e99"));
    assert_eq!(normalise_reference("Ord 2024 ００１"), "ord2024001");
}

// ---------------------------------------------------------------- tolerances and windows

#[test]
fn tolerance_edges() {
    assert!(Tolerance::Exact.allows(0, 100));
    assert!(!Tolerance::Exact.allows(1, 100));
    assert!(Tolerance::Absolute { minor: 100 }.allows(-100, 10_000));
    assert!(!Tolerance::Absolute { minor: 100 }.allows(101, 10_000));
    // 25 bp of ¥2000.00 is ¥5.00.
    assert!(Tolerance::BasisPoints { bp: 25 }.allows(500, 200_000));
    assert!(Tolerance::BasisPoints { bp: 25 }.allows(-500, -200_000));
    assert!(!Tolerance::BasisPoints { bp: 25 }.allows(501, 200_000));
    assert!(!Tolerance::Absolute { minor: -5 }.allows(1, 100));
}

#[test]
fn absolute_tolerance_in_a_plan_passes_at_the_edge_and_fails_one_fen_beyond() {
    let it = OurItem { reference: Some("R1".into()), ..item(10, 10_000, "2024-05-01", "2024-05-01") };
    let rules = set(vec![rule(
        "near",
        vec![
            Condition::ReferenceEquals,
            Condition::AmountWithin { tolerance: Tolerance::Absolute { minor: 100 } },
        ],
        true,
    )]);
    for (amount, matched) in [(10_100, true), (9_900, true), (10_101, false), (9_899, false)] {
        let l = BankLine { our_ref: Some("R1".into()), ..line(1, amount, "2024-05-01") };
        let p = plan(&rules, &[l], std::slice::from_ref(&it));
        assert_eq!(p.matches.len(), usize::from(matched), "{amount}");
        if matched {
            assert_eq!(p.matches[0].difference_minor, amount - 10_000);
            assert_eq!(p.matches[0].status, MatchStatus::Confirmed);
        } else {
            assert_eq!(p.unmatched_lines, vec![uid(1)]);
            assert_eq!(p.unmatched_items, vec![uid(10)]);
        }
    }
}

#[test]
fn basis_point_tolerance_in_a_plan_passes_at_the_edge_and_fails_one_fen_beyond() {
    // Amount-anchored (sorted index) rule: 25 bp of 200 000 fen = 500 fen.
    let it =
        OurItem { counterparty_name: Some("张三".into()), ..item(10, 200_000, "2024-05-01", "2024-05-01") };
    let rules = set(vec![rule(
        "bp",
        vec![
            Condition::AmountWithin { tolerance: Tolerance::BasisPoints { bp: 25 } },
            Condition::DateWithin { days: 0 },
            Condition::NameSimilar { min_percent: 100 },
        ],
        true,
    )]);
    for (amount, matched) in [(200_500, true), (199_500, true), (200_501, false), (199_499, false)] {
        let l = BankLine { counterparty_name: Some("张 三".into()), ..line(1, amount, "2024-05-01") };
        let p = plan(&rules, &[l], std::slice::from_ref(&it));
        assert_eq!(p.matches.len(), usize::from(matched), "{amount}");
    }
}

#[test]
fn date_window_edges() {
    let it = OurItem {
        virtual_number: Some("6222 0000 0001".into()),
        ..item(10, 5_000, "2024-05-10", "2024-05-12")
    };
    let rules =
        set(vec![rule("s", vec![Condition::SuffixRoute, EXACT, Condition::DateWithin { days: 2 }], true)]);
    for (booked, matched) in [
        ("2024-05-08", true),
        ("2024-05-11", true),
        ("2024-05-14", true),
        ("2024-05-07", false),
        ("2024-05-15", false),
    ] {
        let l = BankLine { addressed_account: Some("622200000001".into()), ..line(1, 5_000, booked) };
        let p = plan(&rules, &[l], std::slice::from_ref(&it));
        assert_eq!(p.matches.len(), usize::from(matched), "{booked}");
    }
    // A reversed window is read in order.
    let reversed = OurItem { date_from: day("2024-05-12"), date_to: day("2024-05-10"), ..it.clone() };
    let l = BankLine { addressed_account: Some("622200000001".into()), ..line(1, 5_000, "2024-05-08") };
    assert_eq!(plan(&rules, &[l], &[reversed]).matches.len(), 1);
}

// ---------------------------------------------------------------- one to one and ambiguity

#[test]
fn one_to_one_exact_match_is_confirmed_and_scored() {
    let it = OurItem {
        reference: Some("ORD1".into()),
        counterparty_name: Some("杭州某某科技".into()),
        ..item(10, 12_345, "2024-05-01", "2024-05-02")
    };
    let l = BankLine {
        our_ref: Some("ORD1".into()),
        counterparty_name: Some("杭州某某科技有限公司".into()),
        ..line(1, 12_345, "2024-05-02")
    };
    let p = plan(&RuleSet::standard(), &[l], &[it]);
    assert_eq!(p.matches.len(), 1);
    let m = &p.matches[0];
    assert_eq!(
        (m.rule.as_str(), m.status, m.difference_minor),
        ("reference_exact", MatchStatus::Confirmed, 0)
    );
    // amount 40 + date 15 + reference 25 + name 10 + suffix 0.
    assert_eq!(m.score, 90);
    assert!(p.ambiguous.is_empty() && p.unmatched_lines.is_empty() && p.unmatched_items.is_empty());
}

#[test]
fn two_equal_candidates_are_refused_and_listed() {
    let twin = |n| OurItem {
        counterparty_name: Some("张三".into()),
        ..item(n, 10_000, "2024-05-01", "2024-05-01")
    };
    let l = BankLine { counterparty_name: Some("张三".into()), ..line(1, 10_000, "2024-05-01") };
    let p = plan(&RuleSet::standard(), &[l], &[twin(20), twin(10)]);
    assert!(p.matches.iter().all(|m| m.status != MatchStatus::Confirmed));
    assert!(p.matches.is_empty());
    assert_eq!(
        p.ambiguous,
        vec![Ambiguity { line: uid(1), rule: "amount_date_name".into(), candidates: vec![uid(10), uid(20)] }]
    );
    assert_eq!(p.unmatched_lines, vec![uid(1)]);
    assert_eq!(p.unmatched_items, vec![uid(10), uid(20)]);
}

#[test]
fn an_item_two_lines_fit_is_refused_for_both() {
    let it =
        OurItem { counterparty_name: Some("张三".into()), ..item(10, 10_000, "2024-05-01", "2024-05-03") };
    let l = |n, d| BankLine { counterparty_name: Some("张三".into()), ..line(n, 10_000, d) };
    let p = plan(&RuleSet::standard(), &[l(2, "2024-05-02"), l(1, "2024-05-01")], &[it]);
    assert!(p.matches.is_empty());
    assert_eq!(p.ambiguous.len(), 2);
    assert_eq!(p.ambiguous[0].line, uid(1));
    assert_eq!(p.ambiguous[1].line, uid(2));
    assert!(p.ambiguous.iter().all(|a| a.candidates == vec![uid(10)]));
}

#[test]
fn ambiguous_line_is_only_suggested_by_a_later_rule() {
    // Two items on the same virtual number with the same amount: suffix routing is
    // ambiguous; the reference then picks one, but it must not be confirmed.
    let v = Some("62220001".to_string());
    let a = OurItem {
        virtual_number: v.clone(),
        reference: Some("INV-1".into()),
        ..item(10, 8_800, "2024-05-01", "2024-05-05")
    };
    let b = OurItem {
        virtual_number: v.clone(),
        reference: Some("INV-2".into()),
        ..item(11, 8_800, "2024-05-01", "2024-05-05")
    };
    let l =
        BankLine { addressed_account: v, remittance: Some("INV-2".into()), ..line(1, 8_800, "2024-05-03") };
    let p = plan(&RuleSet::standard(), &[l], &[a, b]);
    assert_eq!(p.ambiguous[0].rule, "suffix_exact");
    assert_eq!(p.ambiguous[0].candidates, vec![uid(10), uid(11)]);
    assert_eq!(pairs(&p), vec![(vec![uid(1)], vec![uid(11)], "reference_exact", MatchStatus::Suggested)]);
    assert_eq!(p.unmatched_items, vec![uid(10)]);
}

#[test]
fn suffix_routing_wins_over_a_same_amount_other_item() {
    let routed = OurItem {
        virtual_number: Some("6222000012345001".into()),
        counterparty_name: Some("李四".into()),
        ..item(20, 30_000, "2024-05-01", "2024-05-01")
    };
    let other =
        OurItem { counterparty_name: Some("李四".into()), ..item(10, 30_000, "2024-05-01", "2024-05-01") };
    let l = BankLine {
        addressed_account: Some("6222 0000 1234 5001".into()),
        counterparty_name: Some("李四".into()),
        ..line(1, 30_000, "2024-05-01")
    };
    let p = plan(&RuleSet::standard(), std::slice::from_ref(&l), &[other.clone(), routed.clone()]);
    assert_eq!(pairs(&p), vec![(vec![uid(1)], vec![uid(20)], "suffix_exact", MatchStatus::Confirmed)]);
    assert_eq!(p.unmatched_items, vec![uid(10)]);
    assert!(p.ambiguous.is_empty());
    // Without the suffix rule the same line is ambiguous between the two.
    let mut rules = RuleSet::standard();
    rules.rules.remove(0);
    let p = plan(&rules, &[l], &[other, routed]);
    assert!(p.matches.is_empty());
    assert_eq!(p.ambiguous[0].candidates, vec![uid(10), uid(20)]);
}

#[test]
fn a_suggest_rule_never_confirms_and_a_rule_without_amount_confirms_only_exact() {
    let it = OurItem { reference: Some("R9".into()), ..item(10, 1_000, "2024-05-01", "2024-05-01") };
    let l = |amount| BankLine { our_ref: Some("R9".into()), ..line(1, amount, "2024-05-01") };
    let suggest = set(vec![rule("s", vec![Condition::ReferenceEquals, EXACT], false)]);
    assert_eq!(
        plan(&suggest, &[l(1_000)], std::slice::from_ref(&it)).matches[0].status,
        MatchStatus::Suggested
    );
    let any_amount = set(vec![rule("r", vec![Condition::ReferenceEquals], true)]);
    let p = plan(&any_amount, &[l(1_000)], std::slice::from_ref(&it));
    assert_eq!(p.matches[0].status, MatchStatus::Confirmed);
    let p = plan(&any_amount, &[l(990)], std::slice::from_ref(&it));
    assert_eq!((p.matches[0].status, p.matches[0].difference_minor), (MatchStatus::Suggested, -10));
}

#[test]
fn a_crowd_beyond_the_scan_limit_is_ambiguous_not_matched() {
    let items: Vec<OurItem> = (0..(SCAN_LIMIT as u128 + 10))
        .map(|n| OurItem {
            counterparty_name: Some(format!("客户{n}")),
            ..item(1_000 + n, 10_000, "2024-05-01", "2024-05-01")
        })
        .collect();
    // The line's name fits exactly one of them, but it cannot be told without
    // looking at more than SCAN_LIMIT: refused.
    let last = SCAN_LIMIT as u128 + 5;
    let l = BankLine { counterparty_name: Some(format!("客户{last}")), ..line(1, 10_000, "2024-05-01") };
    let rules = set(vec![rule(
        "a",
        vec![EXACT, Condition::DateWithin { days: 0 }, Condition::NameSimilar { min_percent: 100 }],
        true,
    )]);
    let p = plan(&rules, &[l], &items);
    assert!(p.matches.is_empty());
    assert_eq!(p.unmatched_lines, vec![uid(1)]);
    assert_eq!(p.unmatched_items.len(), items.len());
}

// ---------------------------------------------------------------- groups

#[test]
fn one_line_many_items() {
    let of = |n, amount, name: &str| OurItem {
        counterparty_name: Some(name.into()),
        ..item(n, amount, "2024-05-01", "2024-05-03")
    };
    let items = vec![
        of(10, 10_000, "杭州某某科技"),
        of(11, 20_000, "杭州某某科技有限公司"),
        of(12, 5_000, "杭州某某科技"),
        of(13, 25_000, "别的公司"),
    ];
    let l = BankLine {
        counterparty_name: Some("杭州某某科技有限公司".into()),
        ..line(1, 30_000, "2024-05-04")
    };
    let p = plan(&RuleSet::standard(), &[l], &items);
    assert_eq!(
        pairs(&p),
        vec![(vec![uid(1)], vec![uid(10), uid(11)], "one_line_many_items", MatchStatus::Suggested)]
    );
    assert_eq!(p.matches[0].difference_minor, 0);
    assert_eq!(p.unmatched_items, vec![uid(12), uid(13)]);
}

#[test]
fn one_line_many_items_refuses_two_fitting_groups() {
    let of = |n, amount| OurItem {
        counterparty_name: Some("王五".into()),
        ..item(n, amount, "2024-05-01", "2024-05-01")
    };
    let items = vec![of(10, 10_000), of(11, 20_000), of(12, 15_000), of(13, 15_000)];
    let l = BankLine { counterparty_name: Some("王五".into()), ..line(1, 30_000, "2024-05-01") };
    let p = plan(&RuleSet::standard(), &[l], &items);
    assert!(p.matches.is_empty());
    assert_eq!(p.ambiguous.len(), 1);
    assert_eq!(p.ambiguous[0].rule, "one_line_many_items");
    assert_eq!(p.ambiguous[0].candidates, vec![uid(10), uid(11), uid(12), uid(13)]);
}

#[test]
fn one_line_many_items_respects_the_group_size_and_candidate_limits() {
    let of = |n, amount| OurItem {
        counterparty_name: Some("王五".into()),
        ..item(n, amount, "2024-05-01", "2024-05-01")
    };
    let l = BankLine { counterparty_name: Some("王五".into()), ..line(1, 6_000, "2024-05-01") };
    // Six items of 1 000: the only fitting group has six members, more than five.
    let six: Vec<OurItem> = (0..6).map(|n| of(10 + n, 1_000)).collect();
    let p = plan(&RuleSet::standard(), std::slice::from_ref(&l), &six);
    assert!(p.matches.is_empty() && p.ambiguous.is_empty());
    // Thirteen candidates: too many to search, ambiguous.
    let many: Vec<OurItem> = (0..13).map(|n| of(10 + n, 3_000 + n as i64)).collect();
    let p = plan(&RuleSet::standard(), &[l], &many);
    assert!(p.matches.is_empty());
    assert_eq!(p.ambiguous[0].candidates.len(), 13);
}

#[test]
fn many_lines_one_item_by_reference() {
    let it = OurItem { reference: Some("ORD-77".into()), ..item(10, 50_000, "2024-05-01", "2024-05-02") };
    let part = |n, amount, d| BankLine {
        remittance: Some(format!("分期 ORD-77 第{n}期")),
        ..line(n, amount, d)
    };
    let lines =
        vec![part(2, 30_000, "2024-05-05"), part(1, 20_000, "2024-05-01"), part(3, 7_000, "2024-05-02")];
    let p = plan(&RuleSet::standard(), &lines, &[it]);
    assert_eq!(
        pairs(&p),
        vec![(vec![uid(1), uid(2)], vec![uid(10)], "many_lines_by_reference", MatchStatus::Suggested)]
    );
    assert_eq!(p.unmatched_lines, vec![uid(3)]);
}

#[test]
fn many_lines_one_item_by_counterparty_and_its_window() {
    let it =
        OurItem { counterparty_name: Some("赵六".into()), ..item(10, 9_000, "2024-05-10", "2024-05-10") };
    let part = |n, amount, d| BankLine { counterparty_name: Some("赵 六".into()), ..line(n, amount, d) };
    // Line 3 is outside the ± 3 day window, so only 1 + 2 fit.
    let lines =
        vec![part(1, 4_000, "2024-05-07"), part(2, 5_000, "2024-05-13"), part(3, 5_000, "2024-05-14")];
    let p = plan(&RuleSet::standard(), &lines, std::slice::from_ref(&it));
    assert_eq!(
        pairs(&p),
        vec![(vec![uid(1), uid(2)], vec![uid(10)], "many_lines_by_counterparty", MatchStatus::Suggested)]
    );
    // With line 3 inside the window two groups fit: refused, each line listed.
    let lines =
        vec![part(1, 4_000, "2024-05-07"), part(2, 5_000, "2024-05-13"), part(3, 5_000, "2024-05-12")];
    let p = plan(&RuleSet::standard(), &lines, &[it]);
    assert!(p.matches.is_empty());
    assert_eq!(p.ambiguous.iter().map(|a| a.line).collect::<Vec<_>>(), vec![uid(1), uid(2), uid(3)]);
    assert!(
        p.ambiguous.iter().all(|a| a.candidates == vec![uid(10)] && a.rule == "many_lines_by_counterparty")
    );
}

#[test]
fn a_confirming_grouped_rule_confirms_a_unique_group() {
    let it = OurItem { virtual_number: Some("V1".into()), ..item(10, 3_000, "2024-05-01", "2024-05-01") };
    let part = |n, amount| BankLine { addressed_account: Some("v1".into()), ..line(n, amount, "2024-05-01") };
    let mut r =
        grouped("g", vec![EXACT, Condition::SuffixRoute], Cardinality::ManyToOne, GroupKey::VirtualNumber);
    r.confirm = true;
    let p = plan(&set(vec![r]), &[part(1, 1_000), part(2, 2_000)], &[it]);
    assert_eq!(pairs(&p), vec![(vec![uid(1), uid(2)], vec![uid(10)], "g", MatchStatus::Confirmed)]);
}

#[test]
fn grouped_tolerance_in_basis_points() {
    // Two items of 10 000 for one line: 0.5 % = 100 fen of the 20 000 expected.
    let of = |n| OurItem { reference: Some("BATCH-1".into()), ..item(n, 10_000, "2024-05-01", "2024-05-01") };
    let r = grouped(
        "g",
        vec![
            Condition::AmountWithin { tolerance: Tolerance::BasisPoints { bp: 50 } },
            Condition::ReferenceEquals,
        ],
        Cardinality::OneToMany,
        GroupKey::Reference,
    );
    for (amount, matched) in [(19_900, true), (20_100, true), (19_899, false), (20_101, false)] {
        let l = BankLine { remittance: Some("BATCH-1".into()), ..line(1, amount, "2024-05-01") };
        let p = plan(&set(vec![r.clone()]), &[l], &[of(10), of(11)]);
        assert_eq!(p.matches.len(), usize::from(matched), "{amount}");
    }
}

// ---------------------------------------------------------------- the standard set

/// A day's statement of a small company account against its open items.
fn realistic() -> (Vec<BankLine>, Vec<OurItem>) {
    let lines = vec![
        // A customer pays into its virtual sub-account.
        BankLine {
            addressed_account: Some("6222 0200 1000 0017".into()),
            counterparty_name: Some("宁波某某贸易有限公司".into()),
            remittance: Some("货款".into()),
            ..line(101, 1_280_000, "2024-06-03")
        },
        // A channel settlement carrying our order id, fee taken.
        BankLine {
            our_ref: Some("PAY20240601000123".into()),
            fee_minor: 60,
            counterparty_name: Some("某某支付有限公司".into()),
            ..line(102, 9_940, "2024-06-03")
        },
        // A settlement carrying our order id, exact.
        BankLine { our_ref: Some("PAY20240601000124".into()), ..line(103, 4_500, "2024-06-03") },
        // A plain transfer: amount, day and name only.
        BankLine {
            counterparty_name: Some("张三".into()),
            remittance: Some("房租".into()),
            ..line(104, 350_000, "2024-06-04")
        },
        // One transfer paying two invoices of the same customer.
        BankLine {
            counterparty_name: Some("上海某某信息技术有限公司".into()),
            remittance: Some("5月服务费".into()),
            ..line(105, 75_000, "2024-06-04")
        },
        // A deposit paid in two parts, both quoting the order.
        BankLine { remittance: Some("保证金 BID-2024-88 一".into()), ..line(106, 100_000, "2024-06-03") },
        BankLine { remittance: Some("保证金 BID-2024-88 二".into()), ..line(107, 150_000, "2024-06-04") },
        // Interest we did not expect.
        BankLine { remittance: Some("结息".into()), ..line(108, 1_234, "2024-06-04") },
        // A refund debit by reference.
        BankLine { end_to_end: Some("RF 0009".into()), ..line(109, -2_000, "2024-06-04") },
    ];
    let items = vec![
        OurItem {
            virtual_number: Some("6222020010000017".into()),
            counterparty_name: Some("宁波某某贸易".into()),
            ..item(201, 1_280_000, "2024-06-01", "2024-06-05")
        },
        OurItem {
            reference: Some("PAY20240601000123".into()),
            ..item(202, 10_000, "2024-06-01", "2024-06-03")
        },
        OurItem {
            reference: Some("PAY20240601000124".into()),
            ..item(203, 4_500, "2024-06-01", "2024-06-03")
        },
        OurItem {
            counterparty_name: Some("张三".into()), ..item(204, 350_000, "2024-06-01", "2024-06-05")
        },
        OurItem {
            counterparty_name: Some("上海某某信息技术".into()),
            reference: Some("INV-501".into()),
            ..item(205, 50_000, "2024-06-01", "2024-06-05")
        },
        OurItem {
            counterparty_name: Some("上海某某信息技术".into()),
            reference: Some("INV-502".into()),
            ..item(206, 25_000, "2024-06-01", "2024-06-05")
        },
        OurItem { reference: Some("BID-2024-88".into()), ..item(207, 250_000, "2024-06-01", "2024-06-01") },
        OurItem { reference: Some("RF0009".into()), ..item(208, -2_000, "2024-06-04", "2024-06-04") },
        // Still open: nothing on the statement.
        OurItem { counterparty_name: Some("李四".into()), ..item(209, 66_600, "2024-06-01", "2024-06-05") },
    ];
    (lines, items)
}

#[test]
fn standard_rules_on_a_realistic_day() {
    let (lines, items) = realistic();
    let p = plan(&RuleSet::standard(), &lines, &items);
    use MatchStatus::*;
    assert_eq!(
        pairs(&p),
        vec![
            (vec![uid(101)], vec![uid(201)], "suffix_exact", Confirmed),
            (vec![uid(103)], vec![uid(203)], "reference_exact", Confirmed),
            (vec![uid(109)], vec![uid(208)], "reference_exact", Confirmed),
            (vec![uid(102)], vec![uid(202)], "reference_near", Confirmed),
            (vec![uid(104)], vec![uid(204)], "amount_date_name", Confirmed),
            (vec![uid(105)], vec![uid(205), uid(206)], "one_line_many_items", Suggested),
            (vec![uid(106), uid(107)], vec![uid(207)], "many_lines_by_reference", Suggested),
        ]
    );
    let near = &p.matches[3];
    assert_eq!(near.difference_minor, -60);
    assert!(p.ambiguous.is_empty());
    assert_eq!(p.unmatched_lines, vec![uid(108)]);
    assert_eq!(p.unmatched_items, vec![uid(209)]);
    assert!(RuleSet::standard().problems().is_empty());
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Lines and items drawn from small pools, so that collisions, ambiguities and
/// groups happen often.
fn crowded(seed: u64, n: usize) -> (Vec<BankLine>, Vec<OurItem>) {
    let mut rng = Rng(seed);
    let names = ["张三", "张山", "李四", "杭州某某科技有限公司", "杭州某某科技"];
    let refs = ["ORD1", "ORD2", "ORD 3", "ord4"];
    let vnums = ["V1", "V2", "v3"];
    let amounts = [1_000, 2_000, 3_000, 5_000, 10_000, 1_050];
    let base = day("2024-05-01");
    let pick = |rng: &mut Rng, pool: &[&str]| {
        (rng.below(3) > 0).then(|| pool[rng.below(pool.len() as u64) as usize].to_string())
    };
    let mut lines = Vec::new();
    let mut items = Vec::new();
    for k in 0..n {
        let from = base + chrono::Days::new(rng.below(6));
        items.push(OurItem {
            id: Uuid::from_u64_pair(1, rng.next()),
            amount_minor: amounts[rng.below(amounts.len() as u64) as usize],
            date_from: from,
            date_to: from + chrono::Days::new(rng.below(3)),
            reference: pick(&mut rng, &refs),
            counterparty_name: pick(&mut rng, &names),
            virtual_number: pick(&mut rng, &vnums),
            expected_fee_minor: 0,
        });
        lines.push(BankLine {
            id: Uuid::from_u64_pair(2, rng.next()),
            amount_minor: amounts[rng.below(amounts.len() as u64) as usize] * if k % 5 == 0 { 2 } else { 1 },
            booking_date: base + chrono::Days::new(rng.below(8)),
            bank_ref: format!("B{k}"),
            end_to_end: pick(&mut rng, &refs),
            counterparty_name: pick(&mut rng, &names),
            remittance: pick(&mut rng, &refs).map(|r| format!("付款 {r}")),
            addressed_account: pick(&mut rng, &vnums),
            our_ref: None,
            fee_minor: 0,
        });
    }
    (lines, items)
}

/// What every plan must satisfy.
fn check_invariants(rules: &RuleSet, lines: &[BankLine], items: &[OurItem], p: &Plan) {
    use std::collections::HashSet;
    let mut seen_lines = HashSet::new();
    let mut seen_items = HashSet::new();
    for m in &p.matches {
        assert!(!m.lines.is_empty() && !m.items.is_empty());
        assert!(m.lines.is_sorted() && m.items.is_sorted());
        for l in &m.lines {
            assert!(seen_lines.insert(*l), "line {l} matched twice");
        }
        for i in &m.items {
            assert!(seen_items.insert(*i), "item {i} matched twice");
        }
        let sum_l: i64 =
            m.lines.iter().map(|id| lines.iter().find(|l| l.id == *id).unwrap().amount_minor).sum();
        let sum_i: i64 =
            m.items.iter().map(|id| items.iter().find(|i| i.id == *id).unwrap().amount_minor).sum();
        assert_eq!(m.difference_minor, sum_l - sum_i);
        // The planner's score is the explained score of the same group.
        let line_refs: Vec<&BankLine> =
            m.lines.iter().map(|id| lines.iter().find(|l| l.id == *id).unwrap()).collect();
        let item_refs: Vec<&OurItem> =
            m.items.iter().map(|id| items.iter().find(|i| i.id == *id).unwrap()).collect();
        let parts = super::score::score_group(&line_refs, &item_refs, &mut Default::default());
        assert_eq!(m.score, parts.iter().map(|p| p.points).sum::<u8>(), "{m:?}");
        if let ([l], [i]) = (&line_refs[..], &item_refs[..]) {
            assert_eq!(m.score, explain(l, i).score);
        }
        let r = rules.rules.iter().find(|r| r.code == m.rule).unwrap();
        if m.status == MatchStatus::Confirmed {
            assert!(r.confirm);
            assert!(!p.ambiguous.iter().any(|a| m.lines.contains(&a.line)), "confirmed an ambiguous line");
            assert!(
                !p.ambiguous.iter().any(|a| a.candidates.iter().any(|c| m.items.contains(c))),
                "confirmed an ambiguous item"
            );
        }
        for c in &r.conditions {
            if let Condition::AmountWithin { tolerance } = c {
                assert!(tolerance.allows(m.difference_minor, sum_i));
            }
        }
        match r.cardinality {
            Cardinality::OneToOne => assert!(m.lines.len() == 1 && m.items.len() == 1),
            Cardinality::OneToMany => assert!(m.lines.len() == 1 && m.items.len() >= 2),
            Cardinality::ManyToOne => assert!(m.lines.len() >= 2 && m.items.len() == 1),
        }
    }
    let unmatched_lines: HashSet<_> = p.unmatched_lines.iter().copied().collect();
    let unmatched_items: HashSet<_> = p.unmatched_items.iter().copied().collect();
    assert!(p.unmatched_lines.is_sorted() && p.unmatched_items.is_sorted());
    assert!(p.ambiguous.is_sorted_by_key(|a| a.line));
    for l in lines {
        assert!(seen_lines.contains(&l.id) != unmatched_lines.contains(&l.id));
    }
    for i in items {
        assert!(seen_items.contains(&i.id) != unmatched_items.contains(&i.id));
    }
    for a in &p.ambiguous {
        assert!(!a.candidates.is_empty() && a.candidates.is_sorted());
    }
}

#[test]
fn shuffled_input_gives_the_same_plan() {
    let (lines, items) = realistic();
    let expected = plan(&RuleSet::standard(), &lines, &items);
    for seed in 0..20 {
        let mut rng = Rng(seed);
        let (mut l, mut i) = (lines.clone(), items.clone());
        rng.shuffle(&mut l);
        rng.shuffle(&mut i);
        assert_eq!(plan(&RuleSet::standard(), &l, &i), expected, "seed {seed}");
    }
    for seed in 0..20 {
        let (lines, items) = crowded(seed, 60);
        let expected = plan(&RuleSet::standard(), &lines, &items);
        check_invariants(&RuleSet::standard(), &lines, &items, &expected);
        let mut rng = Rng(seed ^ 0xABCD);
        let (mut l, mut i) = (lines.clone(), items.clone());
        rng.shuffle(&mut l);
        rng.shuffle(&mut i);
        assert_eq!(plan(&RuleSet::standard(), &l, &i), expected, "seed {seed}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_plans_keep_the_invariants(seed in any::<u64>(), n in 1usize..80, shuffle in any::<u64>()) {
        let (lines, items) = crowded(seed, n);
        let rules = RuleSet::standard();
        let p = plan(&rules, &lines, &items);
        check_invariants(&rules, &lines, &items, &p);
        let mut rng = Rng(shuffle);
        let (mut l, mut i) = (lines.clone(), items.clone());
        rng.shuffle(&mut l);
        rng.shuffle(&mut i);
        prop_assert_eq!(plan(&rules, &l, &i), p);
    }
}

/// A rule set that exercises the other paths: amount ranges (absolute and basis
/// points), confirming grouped rules by virtual number and reference, names only
/// similar.
fn other_rules() -> RuleSet {
    let within = |tolerance| Condition::AmountWithin { tolerance };
    let mut by_virtual = grouped(
        "g_virtual",
        vec![EXACT, Condition::SuffixRoute, Condition::DateWithin { days: 2 }],
        Cardinality::ManyToOne,
        GroupKey::VirtualNumber,
    );
    by_virtual.confirm = true;
    let mut by_reference = grouped(
        "g_reference",
        vec![within(Tolerance::Absolute { minor: 50 }), Condition::ReferenceEquals],
        Cardinality::OneToMany,
        GroupKey::Reference,
    );
    by_reference.confirm = true;
    set(vec![
        rule(
            "near_amount",
            vec![
                within(Tolerance::Absolute { minor: 50 }),
                Condition::DateWithin { days: 1 },
                Condition::NameSimilar { min_percent: 50 },
            ],
            true,
        ),
        rule("bp_amount", vec![within(Tolerance::BasisPoints { bp: 600 }), Condition::SuffixRoute], false),
        by_virtual,
        by_reference,
        rule("exact_only", vec![EXACT], true),
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn other_rule_paths_keep_the_invariants(seed in any::<u64>(), n in 1usize..80, shuffle in any::<u64>()) {
        let (lines, items) = crowded(seed, n);
        let rules = other_rules();
        prop_assert!(rules.problems().is_empty());
        let p = plan(&rules, &lines, &items);
        check_invariants(&rules, &lines, &items, &p);
        let mut rng = Rng(shuffle);
        let (mut l, mut i) = (lines.clone(), items.clone());
        rng.shuffle(&mut l);
        rng.shuffle(&mut i);
        prop_assert_eq!(plan(&rules, &l, &i), p);
    }
}

// ---------------------------------------------------------------- suggestions

#[test]
fn suggestions_rank_and_explain() {
    let l = BankLine {
        our_ref: Some("ORD-5".into()),
        counterparty_name: Some("杭州某某科技有限公司".into()),
        addressed_account: Some("V9".into()),
        fee_minor: 60,
        ..line(1, 9_940, "2024-05-10")
    };
    let best = OurItem {
        reference: Some("ORD-5".into()),
        counterparty_name: Some("杭州某某科技".into()),
        virtual_number: Some("V9".into()),
        ..item(30, 10_000, "2024-05-08", "2024-05-10")
    };
    let close = OurItem {
        counterparty_name: Some("杭州某某".into()),
        ..item(20, 9_940, "2024-05-12", "2024-05-12")
    };
    let far = OurItem {
        counterparty_name: Some("王五".into()),
        virtual_number: Some("V9".into()),
        ..item(10, 500_000, "2024-01-01", "2024-01-01")
    };
    let nothing = OurItem { ..item(40, -1, "2020-01-01", "2020-01-01") };
    let items = vec![far.clone(), close, best.clone(), nothing];
    let s = suggestions(&l, &items, 5);
    assert_eq!(s.iter().map(|s| s.item).collect::<Vec<_>>(), vec![uid(30), uid(20), uid(10)]);
    assert!(s.windows(2).all(|w| w[0].score >= w[1].score));
    // The fee explains the 60 fen difference: full amount points.
    assert_eq!(
        s[0].parts,
        vec![
            ScorePart {
                factor: ScoreFactor::Amount,
                points: 40,
                detail: ScoreDetail::AmountDifference { difference_minor: -60, fee_difference_minor: 60 }
            },
            ScorePart { factor: ScoreFactor::Date, points: 15, detail: ScoreDetail::DaysApart { days: 0 } },
            ScorePart { factor: ScoreFactor::Reference, points: 25, detail: ScoreDetail::ReferenceFound },
            ScorePart {
                factor: ScoreFactor::Name,
                points: 10,
                detail: ScoreDetail::NameSimilarity { percent: 100 }
            },
            ScorePart { factor: ScoreFactor::Suffix, points: 10, detail: ScoreDetail::SuffixEquals },
        ]
    );
    assert_eq!(s[0].score, 100);
    // Same amount, two days late, name 66 %, no reference, no virtual number.
    let close = &s[1];
    assert_eq!(close.parts[1].detail, ScoreDetail::DaysApart { days: 2 });
    assert_eq!(close.parts[1].points, 9);
    assert_eq!(close.parts[2].detail, ScoreDetail::ReferenceUnknown);
    assert_eq!(close.parts[3].detail, ScoreDetail::NameSimilarity { percent: 66 });
    assert_eq!(close.parts[4].detail, ScoreDetail::SuffixUnknown);
    assert_eq!(close.score, 40 + 9 + 6);
    assert_eq!(suggestions(&l, &items, 1).len(), 1);
    assert_eq!(suggestions(&l, &items, 1)[0], explain(&l, &best));
    assert_eq!(explain(&l, &far).parts[0].points, 0);
}

#[test]
fn amount_points_fall_with_the_relative_difference() {
    let it = item(10, 100_000, "2024-05-01", "2024-05-01");
    let points = |amount| explain(&line(1, amount, "2024-05-01"), &it).parts[0].points;
    assert_eq!(points(100_000), 40);
    assert_eq!(points(100_001), 39);
    assert_eq!(points(102_500), 20);
    assert_eq!(points(95_000), 0);
    assert_eq!(points(110_000), 0);
    let date = |booked| explain(&line(1, 100_000, booked), &it).parts[1].points;
    assert_eq!((date("2024-05-01"), date("2024-04-30"), date("2024-05-06")), (15, 12, 0));
}

#[test]
fn suggestions_match_a_full_sort() {
    let (lines, items) = crowded(7, 200);
    for l in lines.iter().take(20) {
        let mut all: Vec<Suggestion> = items.iter().map(|i| explain(l, i)).filter(|s| s.score > 0).collect();
        all.sort_by(|a, b| b.score.cmp(&a.score).then(a.item.cmp(&b.item)));
        all.truncate(7);
        assert_eq!(suggestions(l, &items, 7), all);
    }
}

// ---------------------------------------------------------------- rules and codes

#[test]
fn rule_problems_are_reported() {
    let no_anchor = rule("a", vec![Condition::DateWithin { days: 1 }], true);
    assert_eq!(no_anchor.problems(), vec![RuleProblem::NoAnchor { rule: "a".into() }]);
    let wide =
        rule("w", vec![Condition::AmountWithin { tolerance: Tolerance::BasisPoints { bp: 10_000 } }], true);
    assert_eq!(wide.problems(), vec![RuleProblem::NoAnchor { rule: "w".into() }]);
    let mut g = grouped("g", vec![EXACT], Cardinality::OneToMany, GroupKey::Reference);
    g.group_by = None;
    g.max_group = 9;
    assert_eq!(
        g.problems(),
        vec![
            RuleProblem::MissingGroupKey { rule: "g".into() },
            RuleProblem::GroupSizeOutOfRange { rule: "g".into(), max_group: 9 }
        ]
    );
    let twice = set(vec![rule("x", vec![EXACT], true), rule("x", vec![EXACT], true)]);
    assert_eq!(twice.problems(), vec![RuleProblem::DuplicateCode { rule: "x".into() }]);
    // A rule with problems is skipped, not guessed at.
    let l = line(1, 100, "2024-05-01");
    let p =
        plan(&set(vec![no_anchor]), std::slice::from_ref(&l), &[item(2, 100, "2024-05-01", "2024-05-01")]);
    assert!(p.matches.is_empty());
}

#[test]
fn rules_and_plans_round_trip_through_json() {
    let rules = RuleSet::standard();
    let json = serde_json::to_string(&rules).unwrap();
    assert!(
        json.contains(r#"{"kind":"amount_within","tolerance":{"kind":"absolute","minor":100}}"#),
        "{json}"
    );
    assert!(json.contains(r#""cardinality":"many_to_one","group_by":"reference""#), "{json}");
    assert_eq!(serde_json::from_str::<RuleSet>(&json).unwrap(), rules);
    let (lines, items) = realistic();
    let p = plan(&rules, &lines, &items);
    assert_eq!(serde_json::from_str::<Plan>(&serde_json::to_string(&p).unwrap()).unwrap(), p);
    assert_eq!(MatchStatus::parse("confirmed"), Some(MatchStatus::Confirmed));
    assert_eq!(ScoreFactor::ALL.map(|f| f.as_str()), ["amount", "date", "reference", "name", "suffix"]);
    let detail = serde_json::to_string(&ScoreDetail::DaysApart { days: 2 }).unwrap();
    assert_eq!(detail, r#"{"detail":"days_apart","days":2}"#);
}

// ---------------------------------------------------------------- speed

/// A million lines against a million items, mostly matching through the
/// one-to-one rules: virtual-account credits, settlement lines with our ids (some
/// with a fee taken), plain transfers by amount, day and name, and noise. Both
/// sides are laid out as they would be read (each allocated in its own order),
/// with a line's item at an unrelated position.
fn volume(n: usize) -> (Vec<BankLine>, Vec<OurItem>) {
    let base = day("2024-01-01");
    // Everything about case k, drawn from its own generator.
    let case = |k: usize| {
        let mut rng = Rng(0x5EED ^ (k as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let amount = 100 + rng.below(5_000_000) as i64;
        let from = base + chrono::Days::new(rng.below(28));
        let booked = from + chrono::Days::new(rng.below(3));
        let ids = (Uuid::from_u64_pair(rng.next(), rng.next()), Uuid::from_u64_pair(rng.next(), rng.next()));
        (amount, from, booked, ids, rng.below(1_000) as i64)
    };
    let items: Vec<OurItem> = (0..n)
        .map(|k| {
            let (amount, from, _, (id, _), _) = case(k);
            let kind = k % 20;
            OurItem {
                id,
                amount_minor: amount,
                date_from: from,
                date_to: from + chrono::Days::new(2),
                reference: (8..=15).contains(&kind).then(|| format!("PAY{k:012}")),
                counterparty_name: Some(format!("客户{}", k % 200_000)),
                virtual_number: (kind <= 7).then(|| format!("62220200{:08}", k % 400_000)),
                expected_fee_minor: 0,
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    Rng(42).shuffle(&mut order);
    let lines: Vec<BankLine> = order
        .into_iter()
        .map(|k| {
            let (amount, _, booked, (_, id), noise) = case(k);
            let mut l = BankLine {
                id,
                amount_minor: amount,
                booking_date: booked,
                bank_ref: format!("{k:012}"),
                end_to_end: None,
                counterparty_name: Some(format!("客户{}有限公司", k % 200_000)),
                remittance: None,
                addressed_account: None,
                our_ref: None,
                fee_minor: 0,
            };
            match k % 20 {
                0..=7 => {
                    l.addressed_account = Some(format!("62220200{:08}", k % 400_000));
                    l.remittance = Some("货款".into());
                }
                8..=15 => {
                    l.our_ref = Some(format!("PAY{k:012}"));
                    if k % 8 == 0 {
                        l.fee_minor = 60;
                        l.amount_minor -= 60;
                    }
                }
                16..=18 => l.remittance = Some(format!("转账 {}", k % 97)),
                _ => {
                    l.amount_minor += 1 + noise;
                    l.counterparty_name = Some("不相干".into());
                }
            }
            l
        })
        .collect();
    (lines, items)
}

/// CPU time of this thread so far (Linux; `None` elsewhere): the machine may be
/// shared, so the rate is printed against CPU time too.
fn thread_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10))
}

#[test]
#[ignore = "timing run: cargo test -p domain --release recon -- --ignored --nocapture"]
fn rate_of_a_million_lines() {
    let rules = RuleSet::standard();
    for (n, runs) in [(100_000, 3), (1_000_000, 3)] {
        rate(&rules, n, runs);
    }
}

fn rate(rules: &RuleSet, n: usize, runs: usize) {
    let (lines, items) = volume(n);
    std::hint::black_box(vec![0u8; 1 << 20]);
    for run in 0..runs {
        let cpu = thread_cpu_time();
        let started = std::time::Instant::now();
        let p = plan(rules, &lines, &items);
        let took = started.elapsed();
        let cpu = thread_cpu_time().zip(cpu).map(|(b, a)| b - a).unwrap_or(took);
        let confirmed = p.matches.iter().filter(|m| m.status == MatchStatus::Confirmed).count();
        println!(
            "run {run}: {n} lines × {n} items in {took:.2?} wall, {cpu:.2?} CPU: {:.2} M lines/s (wall), {:.2} M lines/s (CPU); \
             {} matches ({confirmed} confirmed), {} ambiguous, {} lines open",
            n as f64 / took.as_secs_f64() / 1e6,
            n as f64 / cpu.as_secs_f64().max(1e-3) / 1e6,
            p.matches.len(),
            p.ambiguous.len(),
            p.unmatched_lines.len(),
        );
        assert!(p.matches.len() > n * 9 / 10);
        // Free the plan before the next run, and let the allocator tidy up its
        // free lists now (a large allocation makes glibc consolidate them) rather
        // than inside the next timed run.
        drop(p);
        std::hint::black_box(vec![0u8; 1 << 20]);
    }
}
