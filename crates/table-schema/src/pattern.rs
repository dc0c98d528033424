//! A field's `pattern` constraint: a regular expression the whole text must match.
//!
//! Most patterns in Table Schemas are runs of character classes: `[A-Z]{2}`,
//! `[A-Za-z0-9_-]+`, `https?://\S+`, `[^@\s]+@[^@\s]+\.[^@\s]+`. For those, ASCII text is
//! matched run by run, each byte looked up in its run's table on its own. A DFA has to wait
//! for each state before it can look at the next byte; this does not (bench/README.md has
//! the figures). A run takes as much as it can; it gives back (a few bytes, within a budget of
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
#[derive(Clone, Debug, PartialEq, Eq)]
struct Run {
    /// Bytes that come first, as they are: the pattern's single characters before the run
    /// (`https://` of `https://\S+`), compared at once instead of as runs of one.
    literal: Box<[u8]>,
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
            literal: Box::default(),
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
/// Runs that take all they can follow one another in a loop; a run that may give bytes back
/// tries what follows it for each length, longest first.
fn runs_match(runs: &[Run], mut text: &[u8], steps: &mut u32) -> Option<bool> {
    for (i, run) in runs.iter().enumerate() {
        *steps += 1;
        if *steps > MAX_STEPS {
            return None;
        }
        // (the literal is ASCII: a non-ASCII byte differs from it for the regex too)
        if !run.literal.is_empty() {
            match text.strip_prefix(&*run.literal) {
                Some(rest) => text = rest,
                None => return Some(false),
            }
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
        if run.greedy {
            text = &text[longest..];
            continue;
        }
        for take in (run.min as usize..=longest).rev() {
            if runs_match(&runs[i + 1..], &text[take..], steps)? {
                return Some(true);
            }
        }
        return Some(false);
    }
    match text.first() {
        None => Some(true),
        Some(b) => b.is_ascii().then_some(false),
    }
}

/// The runs of a pattern that is a sequence of single characters, classes and repetitions of
/// them, each marked with whether it may take all it can.
fn runs_of(hir: &Hir) -> Option<Box<[Run]>> {
    let mut single = Vec::new();
    push_runs(hir, &mut single)?;
    // single characters (a class of one byte, a fixed count) become the next run's literal
    let mut runs: Vec<Run> = Vec::new();
    let mut literal = Vec::new();
    for run in single {
        if run.class.count_ones() == 1 && run.min == run.max {
            let byte = run.class.trailing_zeros() as u8;
            literal.extend(std::iter::repeat_n(byte, run.max as usize));
        } else {
            runs.push(Run {
                literal: std::mem::take(&mut literal).into_boxed_slice(),
                ..run
            });
        }
    }
    if !literal.is_empty() || runs.is_empty() {
        runs.push(Run {
            literal: literal.into_boxed_slice(),
            ..Run::new(0, 0, 0)
        });
    }
    // what may follow a run: up to the next run that cannot be skipped (its literal, if it
    // has one, is its first byte)
    for i in 0..runs.len() {
        let (run, later) = (&runs[i], &runs[i + 1..]);
        let mut greedy = true;
        if run.min != run.max {
            for next in later {
                let first = match next.literal.first() {
                    Some(&b) => 1u128 << b,
                    None => next.class,
                };
                if run.class & first != 0 {
                    greedy = false;
                    break;
                }
                if !next.literal.is_empty() || next.min > 0 {
                    break;
                }
            }
        }
        runs[i].greedy = greedy;
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
        assert_eq!(
            greedy,
            [true, false, true],
            "`@` and `.` are literals of the runs after them"
        );
        let url = Pattern::new("https?://\\S+").unwrap();
        let literals: Vec<&[u8]> = url
            .runs
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| &*r.literal)
            .collect();
        assert_eq!(literals, [&b"http"[..], b"://"]);
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

    /// Patterns of runs, some greedy-safe, some not, with Unicode classes among them: single
    /// characters often, so that runs overlap the literals after them.
    fn pattern() -> impl Strategy<Value = String> {
        let atom = prop_oneof![
            3 => Just("a"),
            2 => Just("b"),
            3 => Just("\\."),
            1 => Just("[ab]"),
            1 => Just("[a.]"),
            1 => Just("[^a\\s]"),
            1 => Just("\\S"),
            1 => Just("\\s"),
            1 => Just("[0-9.]"),
            1 => Just("\\w"),
            1 => Just("é"),
            1 => Just("(?:ab)"),
            1 => Just("(?i:a)"),
        ];
        let quantifier = prop_oneof![
            4 => Just(""),
            1 => Just("?"),
            1 => Just("*"),
            1 => Just("+"),
            1 => Just("{2}"),
            1 => Just("{1,3}"),
            1 => Just("{0,2}"),
            1 => Just("+?"),
        ];
        proptest::collection::vec((atom, quantifier), 0..5)
            .prop_map(|parts| parts.into_iter().map(|(a, q)| format!("{a}{q}")).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn runs_agree_with_the_regex(
            p in pattern(),
            text in "[ab.]{0,6}|[aab.1 ]{0,6}|[ab. 1_\u{a0}éA]{0,8}",
        ) {
            let pattern = Pattern::new(&p).unwrap();
            let want = Regex::new(&format!("^(?:{p})$")).unwrap().is_match(&text);
            prop_assert_eq!(pattern.is_match(&text), want, "pattern {:?} text {:?}", p, text);
        }
    }
}
