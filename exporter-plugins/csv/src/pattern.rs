//! A field's `pattern` constraint: a regular expression the whole text must match.
//!
//! Most patterns in Table Schemas are runs of character classes: `[A-Z]{2}`,
//! `[A-Za-z0-9_-]+`, `https?://\S+`, `[^@\s]+@[^@\s]+\.[^@\s]+`. For those, ASCII text is
//! matched run by run, each byte looked up in its run's table on its own. A DFA has to wait
//! for each state before it can look at the next byte; this does not, so it runs several
//! times faster. A run takes as much as it can; it gives back (a few bytes, within a budget of
//! steps) only where what follows could use them. Every other pattern, and any text where a
//! run meets a non-ASCII byte or the budget runs out, goes to the `regex` crate. A proptest
//! holds the two to the same answers.

use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind};

/// A compiled `pattern`, anchored at both ends as Table Schema says.
#[derive(Clone, Debug)]
pub struct Pattern {
    source: String,
    regex: Regex,
    /// The pattern as runs, when it is a sequence of them.
    runs: Option<Box<[Run]>>,
}

/// One run: between `min` and `max` bytes of an ASCII class.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    /// Bit `b` is set when byte `b` is in the class.
    class: u128,
    /// The class as a table over every byte, for matching (non-ASCII bytes are never in it).
    table: [bool; 256],
    min: u32,
    max: u32,
    /// Whether taking as much as possible is sure to find a match if there is one: the run's
    /// length is fixed, or it shares no character with what may follow it (the runs up to the
    /// next one that cannot be skipped). Otherwise the run gives bytes back.
    greedy: bool,
}

impl Run {
    fn new(class: u128, min: u32, max: u32) -> Self {
        let mut table = [false; 256];
        for (b, slot) in table.iter_mut().enumerate().take(128) {
            *slot = class & (1 << b) != 0;
        }
        Run {
            class,
            table,
            min,
            max,
            greedy: true,
        }
    }
}

impl Pattern {
    /// Compiles `source`; the error is the `regex` crate's.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        let regex = Regex::new(&format!("^(?:{source})$"))?;
        let runs = regex_syntax::parse(source)
            .ok()
            .and_then(|hir| runs_of(&hir));
        Ok(Pattern {
            source: source.to_string(),
            regex,
            runs,
        })
    }

    /// The pattern as written in the schema.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `text` matches.
    pub fn is_match(&self, text: &str) -> bool {
        let mut steps = 0;
        match self
            .runs
            .as_deref()
            .and_then(|runs| runs_match(runs, text.as_bytes(), &mut steps))
        {
            Some(answer) => answer,
            None => self.regex.is_match(text),
        }
    }
}

/// Runs tried before the regex takes over: plenty for patterns where a run gives back a few
/// bytes, far too few for the ones that would take exponential time.
const MAX_STEPS: u32 = 256;

/// Whether `text` matches the runs; `None` when the runs cannot tell: a run met a non-ASCII
/// byte (only the regex knows its classes beyond ASCII), or the search took too many steps.
fn runs_match(runs: &[Run], text: &[u8], steps: &mut u32) -> Option<bool> {
    let Some((run, rest)) = runs.split_first() else {
        return match text.first() {
            None => Some(true),
            Some(b) => b.is_ascii().then_some(false),
        };
    };
    *steps += 1;
    if *steps > MAX_STEPS {
        return None;
    }
    let limit = text.len().min(run.max as usize);
    let longest = text[..limit]
        .iter()
        .position(|&b| !run.table[usize::from(b)])
        .unwrap_or(limit);
    if longest < limit && !text[longest].is_ascii() {
        return None;
    }
    if longest < run.min as usize {
        return Some(false);
    }
    let shortest = if run.greedy {
        longest
    } else {
        run.min as usize
    };
    for take in (shortest..=longest).rev() {
        if runs_match(rest, &text[take..], steps)? {
            return Some(true);
        }
    }
    Some(false)
}

/// The runs of a pattern that is a sequence of single characters, classes and repetitions of
/// them, each marked with whether it may take all it can.
fn runs_of(hir: &Hir) -> Option<Box<[Run]>> {
    let mut runs = Vec::new();
    push_runs(hir, &mut runs)?;
    for i in 0..runs.len() {
        let (run, later) = (runs[i], &runs[i + 1..]);
        if run.min == run.max {
            continue;
        }
        for next in later {
            if run.class & next.class != 0 {
                runs[i].greedy = false;
                break;
            }
            if next.min > 0 {
                break;
            }
        }
    }
    Some(runs.into_boxed_slice())
}

fn push_runs(hir: &Hir, runs: &mut Vec<Run>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                runs.push(Run::new(ascii_byte(b)?, 1, 1));
            }
        }
        HirKind::Class(class) => runs.push(Run::new(ascii_class(class), 1, 1)),
        HirKind::Repetition(rep) => {
            let class = match rep.sub.kind() {
                HirKind::Literal(lit) if lit.0.len() == 1 => ascii_byte(lit.0[0])?,
                HirKind::Class(class) => ascii_class(class),
                _ => return None,
            };
            runs.push(Run::new(class, rep.min, rep.max.unwrap_or(u32::MAX)));
        }
        HirKind::Capture(group) => push_runs(&group.sub, runs)?,
        HirKind::Concat(parts) => {
            for part in parts {
                push_runs(part, runs)?;
            }
        }
        // anchors and word boundaries inside the pattern, alternatives of several characters
        HirKind::Look(_) | HirKind::Alternation(_) => return None,
    }
    Some(())
}

fn ascii_byte(b: u8) -> Option<u128> {
    b.is_ascii().then(|| 1 << b)
}

/// The ASCII members of a class: all that ASCII text can meet.
fn ascii_class(class: &Class) -> u128 {
    let mut bits = 0u128;
    let mut add = |start: u32, end: u32| {
        for b in start..=end.min(127) {
            bits |= 1 << b;
        }
    };
    match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .for_each(|r| add(u32::from(r.start()), u32::from(r.end()))),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .for_each(|r| add(u32::from(r.start()), u32::from(r.end()))),
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn common_schema_patterns_are_runs() {
        for p in [
            "[A-Za-z0-9_-]+",
            "[A-Z]{2}",
            "[+0][0-9 ()./-]{4,30}",
            "https?://\\S+",
            "(?:ab)c{0,3}d",
            "[^@\\s]+@[^@\\s]+\\.[^@\\s]+",
        ] {
            assert!(Pattern::new(p).unwrap().runs.is_some(), "{p}");
        }
        // alternatives of several characters, anchors inside, repeated groups, non-ASCII
        for p in ["ab|cd", "a\\b", "(ab)+", "é+"] {
            assert!(Pattern::new(p).unwrap().runs.is_none(), "{p}");
        }
        // the email pattern's middle run gives back the dot the next run needs
        let email = Pattern::new("[^@\\s]+@[^@\\s]+\\.[^@\\s]+").unwrap();
        let greedy: Vec<bool> = email
            .runs
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| r.greedy)
            .collect();
        assert_eq!(greedy, [true, true, false, true, true]);
        assert!(email.is_match("info@schafer-fitness.de"));
        assert!(email.is_match("a@b.c.d"));
        assert!(!email.is_match("info@localhost"));
        assert!(!email.is_match("a@b."));
        // exponential for a backtracking search: the budget hands it to the regex
        let nested = Pattern::new("a*a*a*a*a*a*b").unwrap();
        assert!(!nested.is_match(&"a".repeat(40)));
        assert!(nested.is_match(&format!("{}b", "a".repeat(40))));
    }

    #[test]
    fn matches_whole_texts_only() {
        let p = Pattern::new("https?://\\S+").unwrap();
        assert!(p.is_match("https://a.b/c?d=e"));
        assert!(p.is_match("http://x"));
        assert!(!p.is_match("http://"));
        assert!(!p.is_match("https://a b"));
        assert!(!p.is_match(" https://a"));
        assert!(
            !p.is_match("https://a\u{a0}b"),
            "Unicode space, by the regex"
        );
        assert!(p.is_match("https://bücher.de"));
        let phone = Pattern::new("[+0][0-9 ()./-]{4,30}").unwrap();
        assert!(phone.is_match("+49 30 1234"));
        assert!(!phone.is_match("+123"), "too short");
        assert!(!phone.is_match(&format!("0{}", "1".repeat(31))), "too long");
        assert_eq!(phone.as_str(), "[+0][0-9 ()./-]{4,30}");
    }

    /// Patterns of runs, some greedy-safe, some not, with Unicode classes among them.
    fn pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            Just("a"),
            Just("b"),
            Just("\\."),
            Just("[ab]"),
            Just("[^a\\s]"),
            Just("\\S"),
            Just("\\s"),
            Just("[0-9.]"),
            Just("\\w"),
            Just("é"),
            Just("(?:ab)"),
            Just("(?i:a)"),
        ];
        let quantifier = prop_oneof![
            Just(""),
            Just("?"),
            Just("*"),
            Just("+"),
            Just("{2}"),
            Just("{1,3}"),
            Just("{0,2}"),
            Just("+?"),
        ];
        proptest::collection::vec((atom, quantifier), 0..4)
            .prop_map(|parts| parts.into_iter().map(|(a, q)| format!("{a}{q}")).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn runs_agree_with_the_regex(
            p in pattern(),
            text in "[aab.1 ]{0,6}|[ab. 1_\u{a0}éA]{0,8}",
        ) {
            let pattern = Pattern::new(&p).unwrap();
            let want = Regex::new(&format!("^(?:{p})$")).unwrap().is_match(&text);
            prop_assert_eq!(pattern.is_match(&text), want, "pattern {:?} text {:?}", p, text);
        }
    }
}
