//! The cursor the grammar reads tokens through: each token is used at most once, so that the
//! date rules, then the clock rules, then the part of the day each take what is theirs from the
//! same utterance ("Tuesday at two in the afternoon").

use super::lexicon::{Key, Tok};

/// The tokens of one utterance and which of them a rule has already used.
pub(super) struct Parser {
    pub(super) toks: Vec<Tok>,
    used: Vec<bool>,
}

impl Parser {
    pub(super) fn new(toks: Vec<Tok>) -> Self {
        let mut used = vec![false; toks.len()];
        // Numbers in a row that look like a phone number being dictated (four or more, or three
        // with a group of three or four digits: "514 555 0123") are never a time.
        let mut run_start = 0;
        for i in 0..=toks.len() {
            let is_num = toks.get(i).is_some_and(|t| matches!(t, Tok::Num(_)));
            if !is_num {
                let run = &toks[run_start..i];
                let long_group = run.iter().any(|t| matches!(t, Tok::Num(n) if *n >= 100));
                if run.len() >= 4 || (run.len() >= 2 && long_group) {
                    used[run_start..i].iter_mut().for_each(|u| *u = true);
                }
                run_start = i + 1;
            }
        }
        Self { toks, used }
    }

    /// The number of tokens, used or not.
    pub(super) fn len(&self) -> usize {
        self.toks.len()
    }

    /// The token at `i`, unless it is out of range or already used.
    pub(super) fn get(&self, i: usize) -> Option<Tok> {
        self.toks.get(i).copied().filter(|_| !self.used[i])
    }

    pub(super) fn is_key(&self, i: usize, key: Key) -> bool {
        self.get(i) == Some(Tok::Key(key))
    }

    pub(super) fn prev_is_key(&self, i: usize, key: Key) -> bool {
        i.checked_sub(1).is_some_and(|j| self.is_key(j, key))
    }

    /// Marks tokens as used; indices past the end are ignored.
    pub(super) fn mark(&mut self, range: std::ops::Range<usize>) {
        for i in range {
            if i < self.used.len() {
                self.used[i] = true;
            }
        }
    }

    /// The first unused token that `pred` accepts.
    pub(super) fn find(&self, pred: impl Fn(Tok) -> bool) -> Option<usize> {
        (0..self.toks.len()).find(|&i| self.get(i).is_some_and(&pred))
    }

    /// The first unused token that `read` reads, with its index.
    pub(super) fn find_map<T>(&self, read: impl Fn(Tok) -> Option<T>) -> Option<(usize, T)> {
        (0..self.toks.len()).find_map(|i| self.get(i).and_then(&read).map(|value| (i, value)))
    }
}
