//! The virtual tree (platform → anchor enterprise → merchant → bidder/user): each
//! node has its **own** balance and a **subtree** balance (own + Σ children's
//! subtrees), and all virtual accounts together with our internal and suspense
//! accounts add up to the physical account.
//!
//! Trees can be deep: everything here is iterative, so depth is no limit.

use super::ids::AccountId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A virtual account in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TreeNode {
    /// The account.
    pub id: AccountId,
    /// Its parent; `None` for a top-level account under the physical account.
    pub parent: Option<AccountId>,
    /// Its own balance (fen, normal side).
    pub own_minor: i64,
}

/// Why nodes do not form a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum TreeProblem {
    /// The same account appears twice.
    #[error("node {account} listed twice")]
    DuplicateNode {
        /// The account.
        account: AccountId,
    },
    /// A node's parent is not among the nodes.
    #[error("node {account} has unknown parent {parent}")]
    Orphan {
        /// The node.
        account: AccountId,
        /// The missing parent.
        parent: AccountId,
    },
    /// Following parents from this node comes back to it.
    #[error("node {account} is on a cycle")]
    Cycle {
        /// The smallest account id on a cycle.
        account: AccountId,
    },
    /// A subtree balance leaves the `i64` range.
    #[error("subtree of {account} overflows")]
    Overflow {
        /// The node.
        account: AccountId,
    },
    /// A stored subtree balance is missing for a node.
    #[error("no subtree balance for {account}")]
    MissingSubtree {
        /// The node.
        account: AccountId,
    },
}

/// A sum that should hold and does not. `i128` so sums of many balances are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[error("expected {expected_minor}, found {actual_minor} (difference {difference_minor})")]
pub struct InvariantBreak {
    /// What the sum should be (fen).
    pub expected_minor: i128,
    /// What it is (fen).
    pub actual_minor: i128,
    /// `actual_minor − expected_minor`.
    pub difference_minor: i128,
}

/// A node whose stored subtree balance is not own + Σ children.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RollupBreak {
    /// The node.
    pub account: AccountId,
    /// Expected own + Σ children, found the stored subtree.
    pub mismatch: InvariantBreak,
}

fn compare(expected: i128, actual: i128) -> Result<(), InvariantBreak> {
    if expected == actual {
        Ok(())
    } else {
        Err(InvariantBreak {
            expected_minor: expected,
            actual_minor: actual,
            difference_minor: actual - expected,
        })
    }
}

/// The physical-account invariant: the physical account's ledger balance equals the
/// own balances of all virtual accounts plus internal and suspense balances. The
/// expected side is the physical balance; the actual side the sum.
pub fn check_invariant(
    physical_ledger_minor: i64,
    virtual_own_minor: &[i64],
    internal_minor: i64,
    suspense_minor: i64,
) -> Result<(), InvariantBreak> {
    let virtual_total: i128 = virtual_own_minor.iter().map(|&b| i128::from(b)).sum();
    compare(
        i128::from(physical_ledger_minor),
        virtual_total + i128::from(internal_minor) + i128::from(suspense_minor),
    )
}

/// One parent's roll-up: its subtree balance equals its own plus its children's
/// subtree balances. The expected side is own + Σ children; the actual side the
/// subtree balance.
pub fn check_parent(
    subtree_minor: i64,
    own_minor: i64,
    children_subtree_minor: &[i64],
) -> Result<(), InvariantBreak> {
    let children: i128 = children_subtree_minor.iter().map(|&b| i128::from(b)).sum();
    compare(i128::from(own_minor) + children, i128::from(subtree_minor))
}

/// The nodes' links, checked: children per node and a leaves-first order.
struct Shape {
    /// Node positions, leaves first: every child comes before its parent.
    order: Vec<usize>,
    /// Parent position per node.
    parents: Vec<Option<usize>>,
}

fn shape(nodes: &[TreeNode]) -> Result<Shape, TreeProblem> {
    let mut positions = BTreeMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if positions.insert(node.id, i).is_some() {
            return Err(TreeProblem::DuplicateNode { account: node.id });
        }
    }
    let mut parents = vec![None; nodes.len()];
    let mut pending_children = vec![0usize; nodes.len()];
    // In id order, so the problem reported does not depend on the input order.
    for (&id, &i) in &positions {
        if let Some(parent) = nodes[i].parent {
            let p = *positions.get(&parent).ok_or(TreeProblem::Orphan { account: id, parent })?;
            parents[i] = Some(p);
            pending_children[p] += 1;
        }
    }
    // Kahn's algorithm from the leaves: a node is ready once all its children are.
    let mut ready: Vec<usize> = positions.values().copied().filter(|&i| pending_children[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop() {
        order.push(i);
        if let Some(p) = parents[i] {
            pending_children[p] -= 1;
            if pending_children[p] == 0 {
                ready.push(p);
            }
        }
    }
    // Only nodes on a cycle never become ready: a cycle has no way out upwards.
    let mut done = vec![false; nodes.len()];
    for &i in &order {
        done[i] = true;
    }
    if let Some((&account, _)) = positions.iter().find(|&(_, &i)| !done[i]) {
        return Err(TreeProblem::Cycle { account });
    }
    Ok(Shape { order, parents })
}

/// Every node's subtree balance (own + all descendants), for a forest of any depth.
pub fn subtree_balances(nodes: &[TreeNode]) -> Result<BTreeMap<AccountId, i64>, TreeProblem> {
    let shape = shape(nodes)?;
    let mut totals: Vec<i128> = nodes.iter().map(|n| i128::from(n.own_minor)).collect();
    let mut subtrees = BTreeMap::new();
    for &i in &shape.order {
        let total = totals[i];
        let account = nodes[i].id;
        subtrees.insert(account, i64::try_from(total).map_err(|_| TreeProblem::Overflow { account })?);
        if let Some(p) = shape.parents[i] {
            totals[p] += total;
        }
    }
    Ok(subtrees)
}

/// Checks stored subtree balances node by node with [`check_parent`], listing every
/// node that does not add up (empty: all do).
pub fn check_rollup(
    nodes: &[TreeNode],
    subtree_minor: &BTreeMap<AccountId, i64>,
) -> Result<Vec<RollupBreak>, TreeProblem> {
    let shape = shape(nodes)?;
    let mut children: Vec<Vec<i64>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        let stored = *subtree_minor.get(&node.id).ok_or(TreeProblem::MissingSubtree { account: node.id })?;
        if let Some(p) = shape.parents[i] {
            children[p].push(stored);
        }
    }
    let mut breaks = Vec::new();
    for (node, children) in nodes.iter().zip(&children) {
        let stored = subtree_minor.get(&node.id).copied().unwrap_or_default();
        if let Err(mismatch) = check_parent(stored, node.own_minor, children) {
            breaks.push(RollupBreak { account: node.id, mismatch });
        }
    }
    breaks.sort_by_key(|b| b.account);
    Ok(breaks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn a(n: u128) -> AccountId {
        AccountId(Uuid::from_u128(n))
    }

    fn node(id: u128, parent: Option<u128>, own_minor: i64) -> TreeNode {
        TreeNode { id: a(id), parent: parent.map(a), own_minor }
    }

    #[test]
    fn subtrees_add_up_over_nested_levels() {
        // platform 1 → anchor 2 → merchants 3, 4 → bidder 5 under 3; a second root 6.
        let nodes = [
            node(5, Some(3), 7),
            node(1, None, 1),
            node(3, Some(2), 30),
            node(2, Some(1), 200),
            node(4, Some(2), 40),
            node(6, None, -5),
        ];
        let subtrees = subtree_balances(&nodes).unwrap();
        assert_eq!(subtrees[&a(5)], 7);
        assert_eq!(subtrees[&a(3)], 37);
        assert_eq!(subtrees[&a(2)], 277);
        assert_eq!(subtrees[&a(1)], 278);
        assert_eq!(subtrees[&a(6)], -5);
        assert_eq!(check_rollup(&nodes, &subtrees), Ok(vec![]));
    }

    #[test]
    fn a_very_deep_chain_needs_no_recursion() {
        let depth = 200_000u128;
        let nodes: Vec<TreeNode> =
            (0..depth).map(|i| node(i + 1, if i == 0 { None } else { Some(i) }, 1)).collect();
        let subtrees = subtree_balances(&nodes).unwrap();
        assert_eq!(subtrees[&a(1)], 200_000);
        assert_eq!(subtrees[&a(depth)], 1);
    }

    #[test]
    fn cycles_orphans_and_duplicates_are_typed() {
        assert_eq!(
            subtree_balances(&[node(1, None, 0), node(2, Some(9), 0)]),
            Err(TreeProblem::Orphan { account: a(2), parent: a(9) })
        );
        // 1 is fine; 3 → 4 → 5 → 3 is a cycle with 6 hanging below it.
        let looped = [
            node(1, None, 0),
            node(4, Some(5), 0),
            node(5, Some(3), 0),
            node(3, Some(4), 0),
            node(6, Some(4), 1),
        ];
        assert_eq!(subtree_balances(&looped), Err(TreeProblem::Cycle { account: a(3) }));
        assert_eq!(subtree_balances(&[node(7, Some(7), 0)]), Err(TreeProblem::Cycle { account: a(7) }));
        assert_eq!(
            subtree_balances(&[node(1, None, 0), node(1, None, 0)]),
            Err(TreeProblem::DuplicateNode { account: a(1) })
        );
        assert_eq!(
            subtree_balances(&[node(1, None, i64::MAX), node(2, Some(1), 1)]),
            Err(TreeProblem::Overflow { account: a(1) })
        );
    }

    #[test]
    fn the_physical_invariant_reports_the_difference() {
        assert_eq!(check_invariant(1_000, &[600, 300], 50, 50), Ok(()));
        assert_eq!(
            check_invariant(1_000, &[600, 300], 50, 49),
            Err(InvariantBreak { expected_minor: 1_000, actual_minor: 999, difference_minor: -1 })
        );
        // Sums of many large balances stay exact.
        assert_eq!(check_invariant(i64::MAX, &[i64::MAX, i64::MAX], 0, -i64::MAX), Ok(()));
    }

    #[test]
    fn parent_checks_find_every_stored_mismatch() {
        assert_eq!(check_parent(10, 4, &[3, 3]), Ok(()));
        assert_eq!(
            check_parent(11, 4, &[3, 3]),
            Err(InvariantBreak { expected_minor: 10, actual_minor: 11, difference_minor: 1 })
        );
        let nodes = [node(1, None, 1), node(2, Some(1), 2), node(3, Some(1), 3)];
        let mut stored = subtree_balances(&nodes).unwrap();
        stored.insert(a(3), 4);
        let breaks = check_rollup(&nodes, &stored).unwrap();
        // Node 3 itself is off by one; so is its parent, which was stored as the old sum.
        assert_eq!(breaks.iter().map(|b| b.account).collect::<Vec<_>>(), vec![a(1), a(3)]);
        assert_eq!(breaks[1].mismatch.difference_minor, 1);
        assert_eq!(breaks[0].mismatch.difference_minor, -1);
        stored.remove(&a(2));
        assert_eq!(check_rollup(&nodes, &stored), Err(TreeProblem::MissingSubtree { account: a(2) }));
    }
}
