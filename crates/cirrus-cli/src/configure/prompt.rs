//! Questions on standard error, answers from standard input, one line each, as `aws configure`
//! asks them: a script can pipe the answers in (`printf 'AKIA...\n...' | cirrus configure`).

use crate::output::printable;
use crate::Failure;
use anyhow::anyhow;
use std::io::{BufRead, Write};

/// The longest answer taken: a setting is one short line.
const MAX_ANSWER: usize = 4096;

/// Reads answers from standard input.
#[derive(Debug)]
pub(super) struct Prompter<R> {
    input: R,
    /// Standard input ended: every later answer is empty.
    ended: bool,
}

impl Prompter<std::io::StdinLock<'static>> {
    pub(super) fn stdin() -> Self {
        Prompter { input: std::io::stdin().lock(), ended: false }
    }
}

impl<R: BufRead> Prompter<R> {
    /// `question [shown]: `, and the answer, trimmed; empty when the user just pressed Enter
    /// or standard input ended.
    pub(super) fn ask(&mut self, question: &str, shown: Option<&str>) -> Result<String, Failure> {
        let shown = shown.map_or("None".into(), printable);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question} [{shown}]: ");
        let _ = err.flush();
        drop(err);
        if self.ended {
            let _ = writeln!(std::io::stderr());
            return Ok(String::new());
        }
        let mut line = Vec::new();
        let read = <&mut R as std::io::Read>::take(&mut self.input, MAX_ANSWER as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Failure::input(anyhow!("cannot read the answer from standard input: {e}")))?;
        if read == 0 {
            self.ended = true;
            let _ = writeln!(std::io::stderr());
        }
        if line.len() > MAX_ANSWER {
            return Err(Failure::input(anyhow!("{question}: the answer is longer than {MAX_ANSWER} bytes")));
        }
        let text =
            String::from_utf8(line).map_err(|_| Failure::input(anyhow!("{question}: the answer is not UTF-8")))?;
        Ok(text.trim().to_owned())
    }

    /// Asks until the answer is not empty; an error naming `what` when standard input ends.
    pub(super) fn require(&mut self, question: &str, shown: Option<&str>, what: &str) -> Result<String, Failure> {
        loop {
            let answer = self.ask(question, shown)?;
            match (answer.is_empty(), shown) {
                (false, _) => return Ok(answer),
                (true, Some(current)) => return Ok(current.to_owned()),
                (true, None) if self.ended => return Err(Failure::input(anyhow!("no {what} given"))),
                (true, None) => eprintln!("{what} is needed"),
            }
        }
    }

    /// One of `items` (more than one), by its number in the list printed, or its name.
    pub(super) fn choose<'a>(&mut self, what: &str, items: &'a [(String, String)]) -> Result<&'a str, Failure> {
        for (i, (_, label)) in items.iter().enumerate() {
            eprintln!("  {:>2}. {}", i + 1, printable(label));
        }
        loop {
            let answer = self.ask(&format!("{what} (1-{})", items.len()), Some("1"))?;
            if answer.is_empty() && self.ended {
                // Not the first by default: a script whose answers ran out picks nothing.
                return Err(Failure::input(anyhow!("no {what} chosen")));
            }
            let answer = if answer.is_empty() { "1" } else { answer.as_str() };
            let by_number = answer.parse::<usize>().ok().and_then(|n| n.checked_sub(1)).and_then(|i| items.get(i));
            if let Some((name, _)) = by_number.or_else(|| items.iter().find(|(name, _)| name == answer)) {
                return Ok(name);
            }
            eprintln!("{}: not a number from 1 to {}", printable(answer), items.len());
        }
    }
}

/// `****************ABCD`: the last four characters of an access key id, as `aws configure`
/// shows the one set; nothing of a secret.
pub(super) fn masked(value: &str, secret: bool) -> String {
    let stars = "*".repeat(16);
    match value.char_indices().rev().nth(3) {
        Some((i, _)) if !secret && value.len() > 4 => format!("{stars}{}", &value[i..]),
        _ => stars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompter(input: &str) -> Prompter<&[u8]> {
        Prompter { input: input.as_bytes(), ended: false }
    }

    #[test]
    fn answers_are_lines_and_an_ended_input_answers_empty() {
        let mut p = prompter("  AKIDEXAMPLE \n\neu-west-1");
        assert_eq!(p.ask("key", None).unwrap(), "AKIDEXAMPLE");
        assert_eq!(p.ask("secret", Some("x")).unwrap(), "");
        assert_eq!(p.ask("region", None).unwrap(), "eu-west-1");
        assert_eq!(p.ask("output", None).unwrap(), "");
        assert!(p.require("start URL", None, "SSO start URL").is_err());
    }

    #[test]
    fn a_choice_by_number_or_name_and_a_wrong_one_asked_again() {
        let items = vec![("111".to_owned(), "Dev (111)".to_owned()), ("222".to_owned(), "Prod (222)".to_owned())];
        assert_eq!(prompter("2\n").choose("Account", &items).unwrap(), "222");
        assert_eq!(prompter("7\nx\n111\n").choose("Account", &items).unwrap(), "111");
        assert_eq!(prompter("\n").choose("Account", &items).unwrap(), "111");
        assert!(prompter("0\n").choose("Account", &items).is_err());
    }

    #[test]
    fn a_long_answer_is_refused() {
        let long = "a".repeat(MAX_ANSWER + 10);
        assert!(prompter(&long).ask("key", None).is_err());
    }

    #[test]
    fn masks_show_four_characters_of_a_key_and_none_of_a_secret() {
        assert_eq!(masked("AKIAIOSFODNN7EXAMPLE", false), "****************MPLE");
        assert_eq!(masked("wJalrXUtnFEMI/K7MDENG", true), "****************");
        assert_eq!(masked("abc", false), "****************");
    }
}
