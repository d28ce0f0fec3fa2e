//! Where a payment goes: the account's outstanding debts by period and
//! service, oldest first or in proportion to each, and what is left over
//! stays as the account's credit for the next receipt.
//!
//! Invariants (property-tested): the allocations and the credit add up to
//! the payment exactly; no debt gets more than it owes, none less than
//! zero; credit is left only when every debt is paid.

use uuid::Uuid;

/// An outstanding debt of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debt {
    /// `2026-11`.
    pub period: String,
    pub service_id: Option<Uuid>,
    pub outstanding_minor: i64,
}

/// The organisation's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The oldest period first; within a period, the services in the given order.
    OldestFirst,
    /// Every debt in proportion to what it owes (largest remainders get the
    /// odd cents, ties to the older debt).
    Proportional,
}

/// A payment split over debts: `(index into debts, amount)`, then the credit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub parts: Vec<(usize, i64)>,
    pub credit_minor: i64,
}

/// Splits `amount` (minor units, > 0) over `debts`.
pub fn allocate(amount: i64, debts: &[Debt], rule: Rule) -> Allocation {
    let amount = amount.max(0);
    let owed: Vec<(usize, i64)> = debts
        .iter()
        .enumerate()
        .filter(|(_, d)| d.outstanding_minor > 0)
        .map(|(i, d)| (i, d.outstanding_minor))
        .collect();
    let total: i64 = owed.iter().map(|(_, o)| *o).sum();
    if total <= amount {
        return Allocation {
            parts: owed,
            credit_minor: amount - total,
        };
    }
    let parts = match rule {
        Rule::OldestFirst => {
            let mut order = owed.clone();
            // Stable: services keep their order within a period.
            order.sort_by(|a, b| debts[a.0].period.cmp(&debts[b.0].period));
            let mut left = amount;
            let mut parts = Vec::new();
            for (i, o) in order {
                if left == 0 {
                    break;
                }
                let take = o.min(left);
                parts.push((i, take));
                left -= take;
            }
            parts
        }
        Rule::Proportional => {
            // amount × owed / total, floored, in i128 (no overflow); the cents
            // left go to the largest remainders.
            let mut shares: Vec<(usize, i64, i128)> = owed
                .iter()
                .map(|(i, o)| {
                    let exact = i128::from(amount) * i128::from(*o);
                    let floor = exact / i128::from(total);
                    (*i, floor as i64, exact % i128::from(total))
                })
                .collect();
            let given: i64 = shares.iter().map(|s| s.1).sum();
            let mut left = amount - given;
            let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
            by_remainder.sort_by(|a, b| {
                shares[*b]
                    .2
                    .cmp(&shares[*a].2)
                    .then_with(|| debts[shares[*a].0].period.cmp(&debts[shares[*b].0].period))
            });
            for k in by_remainder {
                if left == 0 {
                    break;
                }
                shares[k].1 += 1;
                left -= 1;
            }
            shares
                .into_iter()
                .filter(|s| s.1 > 0)
                .map(|(i, a, _)| (i, a))
                .collect()
        }
    };
    Allocation {
        parts,
        credit_minor: 0,
    }
}

#[cfg(test)]
// Minor units written as units_cents: 120_00 is 120.00.
#[allow(clippy::inconsistent_digit_grouping)]
mod tests {
    use super::*;

    fn debt(period: &str, owed: i64) -> Debt {
        Debt {
            period: period.into(),
            service_id: None,
            outstanding_minor: owed,
        }
    }

    #[test]
    fn oldest_debt_first_then_credit() {
        let debts = [
            debt("2026-10", 50_00),
            debt("2026-09", 30_00),
            debt("2026-10", 20_00),
        ];
        // 60.00: September's 30.00, then October in the services' order.
        assert_eq!(
            allocate(60_00, &debts, Rule::OldestFirst),
            Allocation {
                parts: vec![(1, 30_00), (0, 30_00)],
                credit_minor: 0
            }
        );
        // 120.00: everything, and 20.00 of credit for the next receipt.
        assert_eq!(
            allocate(120_00, &debts, Rule::OldestFirst),
            Allocation {
                parts: vec![(0, 50_00), (1, 30_00), (2, 20_00)],
                credit_minor: 20_00
            }
        );
        assert_eq!(
            allocate(10_00, &[], Rule::OldestFirst),
            Allocation {
                parts: vec![],
                credit_minor: 10_00
            }
        );
    }

    #[test]
    fn in_proportion_with_the_odd_cents_to_the_largest_remainders() {
        let debts = [
            debt("2026-10", 100_00),
            debt("2026-10", 200_00),
            debt("2026-10", 300_00),
        ];
        // 100.00 × 1/6, 2/6, 3/6 = 16.666…, 33.333…, 50.00: 16.67, 33.33, 50.00.
        assert_eq!(
            allocate(100_00, &debts, Rule::Proportional),
            Allocation {
                parts: vec![(0, 16_67), (1, 33_33), (2, 50_00)],
                credit_minor: 0
            }
        );
    }

    #[test]
    fn any_payment_is_split_exactly_and_no_debt_gets_more_than_it_owes() {
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        for round in 0..5_000 {
            let debts: Vec<Debt> = (0..next(8))
                .map(|k| {
                    debt(
                        &format!("2026-{:02}", 1 + next(12)),
                        next(100_000) as i64 - (k as i64 % 3),
                    )
                })
                .collect();
            let amount = 1 + next(400_000) as i64;
            let rule = if round % 2 == 0 {
                Rule::OldestFirst
            } else {
                Rule::Proportional
            };
            let a = allocate(amount, &debts, rule);
            let given: i64 = a.parts.iter().map(|p| p.1).sum();
            assert_eq!(given + a.credit_minor, amount, "{debts:?} {amount}");
            for (i, part) in &a.parts {
                assert!(
                    *part > 0 && *part <= debts[*i].outstanding_minor,
                    "{debts:?} {amount} {a:?}"
                );
            }
            let owed: i64 = debts.iter().map(|d| d.outstanding_minor.max(0)).sum();
            assert_eq!(a.credit_minor, (amount - owed).max(0));
        }
    }
}
