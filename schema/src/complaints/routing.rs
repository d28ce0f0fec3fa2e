//! Who gets a complaint, decided on the server: the organisation's routing
//! rules by category and house name a department, a contractor or a person;
//! among the people eligible the one with the fewest open complaints gets it;
//! with no rule, the house's dispatcher. Pure: the rules, the members and the
//! open counts are handed in.
//!
//! A rule for the category and the house wins over one for the category
//! alone, which wins over one for the house alone, which wins over a rule for
//! neither (the organisation's catch-all). Among rules equally specific, the
//! first listed wins.

use std::collections::HashMap;

use uuid::Uuid;

/// Whom a rule sends complaints to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Person(Uuid),
    /// A department or a contractor: a group of people.
    Group(Uuid),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingRule {
    pub category: Option<String>,
    pub house: Option<Uuid>,
    pub target: Target,
}

/// Why the assignee was chosen, for the complaint's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// The rule's index and how many were eligible.
    Rule {
        index: usize,
        eligible: usize,
    },
    HouseDispatcher,
}

fn specificity(r: &RoutingRule, category: Option<&str>, house: Uuid) -> Option<u8> {
    let cat = match &r.category {
        Some(c) if Some(c.as_str()) == category => true,
        Some(_) => return None,
        None => false,
    };
    let hs = match r.house {
        Some(h) if h == house => true,
        Some(_) => return None,
        None => false,
    };
    Some(match (cat, hs) {
        (true, true) => 3,
        (true, false) => 2,
        (false, true) => 1,
        (false, false) => 0,
    })
}

/// The assignee of a complaint of `category` in `house`. `members`: the
/// active people of each group (who may take work in that house); `open`:
/// each person's open complaints; `dispatcher`: the house's dispatcher.
pub fn route(
    category: Option<&str>,
    house: Uuid,
    rules: &[RoutingRule],
    members: &HashMap<Uuid, Vec<Uuid>>,
    open: &HashMap<Uuid, u32>,
    dispatcher: Option<Uuid>,
) -> Option<(Uuid, Why)> {
    let mut candidates: Vec<(u8, usize)> = rules
        .iter()
        .enumerate()
        .filter_map(|(i, r)| specificity(r, category, house).map(|s| (s, i)))
        .collect();
    // Most specific first; the first listed among equals.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in candidates {
        let people: Vec<Uuid> = match rules[index].target {
            Target::Person(p) => vec![p],
            Target::Group(g) => members.get(&g).cloned().unwrap_or_default(),
        };
        // A group with nobody able to take it: the next rule.
        let chosen = people
            .iter()
            .min_by_key(|p| (open.get(p).copied().unwrap_or(0), **p));
        if let Some(p) = chosen {
            return Some((
                *p,
                Why::Rule {
                    index,
                    eligible: people.len(),
                },
            ));
        }
    }
    dispatcher.map(|d| (d, Why::HouseDispatcher))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn the_most_specific_rule_names_the_group_and_the_least_busy_member_gets_it() {
        let (house, other) = (id(100), id(101));
        let (plumbers, electricians, contractor) = (id(200), id(201), id(202));
        let rules = vec![
            RoutingRule {
                category: Some("plumbing".into()),
                house: None,
                target: Target::Group(plumbers),
            },
            RoutingRule {
                category: Some("plumbing".into()),
                house: Some(other),
                target: Target::Group(contractor),
            },
            RoutingRule {
                category: None,
                house: Some(house),
                target: Target::Group(electricians),
            },
        ];
        let members: HashMap<Uuid, Vec<Uuid>> = [
            (plumbers, vec![id(1), id(2), id(3)]),
            (electricians, vec![id(4)]),
            (contractor, vec![id(5)]),
        ]
        .into();
        let open: HashMap<Uuid, u32> = [(id(1), 4), (id(2), 1), (id(3), 1)].into();
        // Plumbing in the first house: the plumbers; 2 and 3 have one each, 2 comes first.
        assert_eq!(
            route(Some("plumbing"), house, &rules, &members, &open, None),
            Some((
                id(2),
                Why::Rule {
                    index: 0,
                    eligible: 3
                }
            ))
        );
        // In the other house the contractor's rule is more specific.
        assert_eq!(
            route(Some("plumbing"), other, &rules, &members, &open, None).map(|r| r.0),
            Some(id(5))
        );
        // Anything else in the first house: the house's rule.
        assert_eq!(
            route(Some("noise"), house, &rules, &members, &open, None).map(|r| r.0),
            Some(id(4))
        );
    }

    #[test]
    fn without_a_rule_or_anyone_to_take_it_the_house_dispatcher_does() {
        let house = id(100);
        let empty = id(300);
        let rules = vec![RoutingRule {
            category: Some("elevator".into()),
            house: None,
            target: Target::Group(empty),
        }];
        let members: HashMap<Uuid, Vec<Uuid>> = [(empty, vec![])].into();
        let none = HashMap::new();
        assert_eq!(
            route(
                Some("elevator"),
                house,
                &rules,
                &members,
                &none,
                Some(id(9))
            ),
            Some((id(9), Why::HouseDispatcher))
        );
        assert_eq!(route(None, house, &[], &members, &none, None), None);
        let person = vec![RoutingRule {
            category: None,
            house: None,
            target: Target::Person(id(7)),
        }];
        assert_eq!(
            route(None, house, &person, &members, &none, Some(id(9))).map(|r| r.0),
            Some(id(7))
        );
    }
}
