//! A complaint's type from its text, by rules the organisation edits: words
//! and phrases per category and language, each with a weight. Pure.
//!
//! Text and phrases are folded as search folds them (lower case, accents
//! removed, punctuation as spaces), so "Протекает кран!" and "протекает
//! кран" are the same words. A phrase matches a run of whole words; a word
//! ending in `*` matches any word it begins (`протек*`: протекает, протечка
//! does not — `проте*` would). The category whose matched phrases weigh most
//! wins; a tie goes to the category listed first. A rule marked emergency
//! makes the complaint an emergency whatever its category.

use crate::fold::{fold, words};

/// One phrase of a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub category: String,
    /// `ru`, `pt-BR`, `en`; none: any language.
    pub locale: Option<String>,
    pub phrase: String,
    pub weight: i32,
    pub emergency: bool,
}

impl Rule {
    pub fn new(category: &str, locale: &str, phrase: &str) -> Rule {
        Rule {
            category: category.into(),
            locale: Some(locale.into()),
            phrase: phrase.into(),
            weight: 1,
            emergency: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classified {
    pub category: Option<String>,
    pub emergency: bool,
    /// The phrases that matched, as written in the rules.
    pub matched: Vec<String>,
    pub score: i32,
}

/// Whether `phrase` (folded words, `*` for a prefix) stands in `text` (folded words).
fn contains(text: &[&str], phrase: &[&str]) -> bool {
    if phrase.is_empty() || phrase.len() > text.len() {
        return false;
    }
    text.windows(phrase.len()).any(|run| {
        run.iter()
            .zip(phrase)
            .all(|(w, p)| match p.strip_suffix('*') {
                Some(prefix) => w.starts_with(prefix),
                None => w == p,
            })
    })
}

/// Folds a phrase but keeps its `*` at the end of a word.
fn fold_phrase(phrase: &str) -> Vec<String> {
    phrase
        .split_whitespace()
        .flat_map(|w| {
            let star = w.ends_with('*');
            let folded: Vec<String> = words(&fold(w)).map(str::to_string).collect();
            let n = folded.len();
            folded.into_iter().enumerate().map(move |(i, mut f)| {
                if star && i + 1 == n {
                    f.push('*');
                }
                f
            })
        })
        .collect()
}

/// Classifies `text` written in `locale` by `rules` (in the order the
/// organisation lists its categories).
pub fn classify(text: &str, locale: &str, rules: &[Rule]) -> Classified {
    let folded = fold(text);
    let text: Vec<&str> = words(&folded).collect();
    let lang = |l: &str| l.split('-').next().unwrap_or(l).to_ascii_lowercase();
    let mine = lang(locale);
    let mut scores: Vec<(String, i32)> = Vec::new();
    let mut out = Classified::default();
    for r in rules {
        if r.locale.as_deref().is_some_and(|l| lang(l) != mine) {
            continue;
        }
        let phrase = fold_phrase(&r.phrase);
        let phrase: Vec<&str> = phrase.iter().map(String::as_str).collect();
        if !contains(&text, &phrase) {
            continue;
        }
        out.matched.push(r.phrase.clone());
        out.emergency |= r.emergency;
        match scores.iter_mut().find(|(c, _)| *c == r.category) {
            Some((_, s)) => *s += r.weight,
            None => scores.push((r.category.clone(), r.weight)),
        }
    }
    // The first of the best: categories in the order their rules come.
    let mut best: Option<(String, i32)> = None;
    for (c, s) in scores {
        if s > 0 && best.as_ref().is_none_or(|(_, b)| s > *b) {
            best = Some((c, s));
        }
    }
    if let Some((c, s)) = best {
        out.category = Some(c);
        out.score = s;
    }
    out
}

/// The rules a new organisation starts with, in its three languages.
pub fn default_rules() -> Vec<Rule> {
    let table: &[(&str, &str, &[&str])] = &[
        (
            "emergency",
            "ru",
            &[
                "запах газа",
                "газ",
                "пожар",
                "дым",
                "затопил*",
                "прорыв*",
                "искрит*",
            ],
        ),
        (
            "emergency",
            "pt-BR",
            &[
                "cheiro de gas",
                "vazamento de gas",
                "incendio",
                "fumaca",
                "alagamento",
                "curto circuito",
            ],
        ),
        (
            "emergency",
            "en",
            &[
                "gas leak",
                "smell of gas",
                "fire",
                "smoke",
                "flooding",
                "burst pipe",
                "sparks",
            ],
        ),
        (
            "plumbing",
            "ru",
            &[
                "теч*",
                "протек*",
                "протечк*",
                "кран*",
                "смесител*",
                "унитаз*",
                "канализац*",
                "засор*",
                "труб*",
                "вод*",
            ],
        ),
        (
            "plumbing",
            "pt-BR",
            &[
                "vazamento",
                "vaza*",
                "entupi*",
                "torneira*",
                "cano*",
                "esgoto",
                "descarga",
                "agua",
            ],
        ),
        (
            "plumbing",
            "en",
            &[
                "leak*", "tap", "faucet", "toilet", "clog*", "pipe*", "drain*", "water",
            ],
        ),
        (
            "electrical",
            "ru",
            &[
                "свет*",
                "электрич*",
                "розетк*",
                "проводк*",
                "лампоч*",
                "выключател*",
                "автомат*",
            ],
        ),
        (
            "electrical",
            "pt-BR",
            &[
                "luz",
                "energia",
                "tomada*",
                "fiacao",
                "lampada*",
                "disjuntor*",
                "interruptor*",
            ],
        ),
        (
            "electrical",
            "en",
            &[
                "light*", "power", "socket*", "outlet*", "wiring", "bulb*", "switch*", "breaker*",
            ],
        ),
        (
            "heating",
            "ru",
            &["отоплен*", "батаре*", "радиатор*", "холодно", "горяч* вод*"],
        ),
        (
            "heating",
            "pt-BR",
            &[
                "aquecimento",
                "aquecedor*",
                "radiador*",
                "agua quente",
                "frio",
            ],
        ),
        (
            "heating",
            "en",
            &[
                "heating",
                "heater*",
                "radiator*",
                "hot water",
                "no heat",
                "cold",
            ],
        ),
        ("elevator", "ru", &["лифт*"]),
        ("elevator", "pt-BR", &["elevador*"]),
        ("elevator", "en", &["elevator*", "lift*"]),
        (
            "cleaning",
            "ru",
            &["уборк*", "мусор*", "грязн*", "подъезд*", "убира*"],
        ),
        (
            "cleaning",
            "pt-BR",
            &["limpeza", "lixo", "suj*", "corredor*"],
        ),
        (
            "cleaning",
            "en",
            &["cleaning", "garbage", "trash", "rubbish", "dirty", "litter"],
        ),
        ("noise", "ru", &["шум*", "громк*", "музык*", "соседи"]),
        (
            "noise",
            "pt-BR",
            &["barulho*", "ruido*", "musica alta", "vizinho*"],
        ),
        (
            "noise",
            "en",
            &["noise", "noisy", "loud", "music", "neighbour*", "neighbor*"],
        ),
        (
            "billing",
            "ru",
            &[
                "квитанц*",
                "начислен*",
                "оплат*",
                "перерасчет*",
                "долг*",
                "пени",
            ],
        ),
        (
            "billing",
            "pt-BR",
            &["boleto*", "cobranca*", "pagamento*", "multa", "taxa*"],
        ),
        (
            "billing",
            "en",
            &["bill*", "invoice*", "charge*", "payment*", "receipt*"],
        ),
    ];
    let mut rules = Vec::new();
    for (category, locale, phrases) in table {
        for p in *phrases {
            let mut r = Rule::new(category, locale, p);
            if *category == "emergency" {
                r.weight = 3;
                r.emergency = true;
            }
            rules.push(r);
        }
    }
    rules
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_leaking_tap_is_plumbing_in_each_language() {
        let rules = default_rules();
        for (text, locale) in [
            ("На кухне протекает кран, вода на полу!", "ru"),
            ("A torneira da cozinha está vazando", "pt-BR"),
            ("The kitchen tap is leaking", "en"),
        ] {
            let c = classify(text, locale, &rules);
            assert_eq!(c.category.as_deref(), Some("plumbing"), "{text}: {c:?}");
            assert!(!c.emergency, "{text}");
        }
    }

    #[test]
    fn the_smell_of_gas_is_an_emergency_whatever_else_is_said() {
        let c = classify(
            "В подъезде сильный запах газа и грязно",
            "ru",
            &default_rules(),
        );
        assert_eq!(c.category.as_deref(), Some("emergency"));
        assert!(c.emergency);
        assert!(c.matched.contains(&"запах газа".to_string()));
        let c = classify("Cheiro de gás no corredor", "pt-BR", &default_rules());
        assert!(c.emergency, "accents are folded: {c:?}");
    }

    #[test]
    fn words_match_whole_or_by_their_beginning_and_never_inside_another() {
        let rules = vec![
            Rule::new("elevator", "ru", "лифт*"),
            Rule::new("noise", "ru", "шум"),
        ];
        assert_eq!(
            classify("Лифты не работают", "ru", &rules)
                .category
                .as_deref(),
            Some("elevator")
        );
        // "шум" is whole: "шумоизоляция" is not noise.
        assert_eq!(classify("плохая шумоизоляция", "ru", &rules).category, None);
        // Another language's rules do not apply.
        assert_eq!(classify("лифт", "en", &rules).category, None);
    }

    #[test]
    fn the_heaviest_category_wins_and_a_tie_goes_to_the_first_listed() {
        let mut rules = vec![
            Rule::new("plumbing", "en", "water"),
            Rule::new("heating", "en", "hot water"),
            Rule::new("heating", "en", "radiator*"),
        ];
        let c = classify("No hot water and the radiators are cold", "en", &rules);
        assert_eq!((c.category.as_deref(), c.score), (Some("heating"), 2));
        rules.truncate(2);
        let c = classify("no hot water", "en", &rules);
        assert_eq!((c.category.as_deref(), c.score), (Some("plumbing"), 1));
        assert_eq!(
            classify("nothing to see", "en", &rules),
            Classified::default()
        );
    }
}
