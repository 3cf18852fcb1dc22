//! The small arithmetic a spec writes rules in, relative to a call's
//! arguments: `threads`, `min(workers, len(numbers))`, `max(1, workers)`,
//! `threads * 2 - 1`. Integers, the parameters' names, `+ - * /`,
//! parentheses, and the functions `min`, `max` (two or more arguments) and
//! `len` (of a list argument).

use std::fmt;

/// A call's argument as a spec gives it: an integer, a list of integers
/// (passed to the function as a `Vec`), or a list of such lists (a `Vec`
/// of `Vec`s).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Arg {
    Int(i64),
    List(Vec<i64>),
    Lists(Vec<Vec<i64>>),
}

fn vec_of(items: impl Iterator<Item = String>, len: usize, cut: bool) -> String {
    let items: Vec<String> = items.collect();
    if cut && len > 8 {
        format!("vec![{}, ... {} more]", items[..6].join(", "), len - 6)
    } else {
        format!("vec![{}]", items.join(", "))
    }
}

impl Arg {
    /// The argument as Rust source: `4`, `vec![1, 2, 3]`.
    pub fn rust(&self) -> String {
        self.text(false)
    }

    /// The argument as a student reads it in a message (long lists cut).
    pub fn shown(&self) -> String {
        self.text(true)
    }

    fn text(&self, cut: bool) -> String {
        let ints = |v: &[i64]| vec_of(v.iter().map(i64::to_string), v.len(), cut);
        match self {
            Arg::Int(i) => i.to_string(),
            Arg::List(v) => ints(v),
            Arg::Lists(v) => vec_of(v.iter().map(|inner| ints(inner)), v.len(), cut),
        }
    }

    /// The number of elements of a list argument.
    fn len(&self) -> Option<usize> {
        match self {
            Arg::Int(_) => None,
            Arg::List(v) => Some(v.len()),
            Arg::Lists(v) => Some(v.len()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Int(i64),
    Param(String),
    Call(String, Vec<Expr>),
    Bin(Box<Expr>, char, Box<Expr>),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Param(p) => f.write_str(p),
            Expr::Call(name, args) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            Expr::Bin(a, op, b) => write!(f, "({a} {op} {b})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Int(i64),
    Name(String),
    Sym(char),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit() || **d == '_') {
                if d != '_' {
                    n.push(d);
                }
                chars.next();
            }
            out.push(Token::Int(
                n.parse().map_err(|_| format!("`{n}` is too large"))?,
            ));
        } else if c.is_alphabetic() || c == '_' {
            let mut n = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_alphanumeric() || **d == '_') {
                n.push(d);
                chars.next();
            }
            out.push(Token::Name(n));
        } else if "+-*/(),".contains(c) {
            out.push(Token::Sym(c));
            chars.next();
        } else {
            return Err(format!("unexpected `{c}`"));
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Token::Sym(c)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        loop {
            let op = if self.eat('+') {
                '+'
            } else if self.eat('-') {
                '-'
            } else {
                return Ok(left);
            };
            left = Expr::Bin(Box::new(left), op, Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        loop {
            let op = if self.eat('*') {
                '*'
            } else if self.eat('/') {
                '/'
            } else {
                return Ok(left);
            };
            left = Expr::Bin(Box::new(left), op, Box::new(self.factor()?));
        }
    }

    fn factor(&mut self) -> Result<Expr, String> {
        match self.tokens.get(self.at).cloned() {
            Some(Token::Int(i)) => {
                self.at += 1;
                Ok(Expr::Int(i))
            }
            Some(Token::Name(n)) => {
                self.at += 1;
                if !self.eat('(') {
                    return Ok(Expr::Param(n));
                }
                let mut args = vec![self.expr()?];
                while self.eat(',') {
                    args.push(self.expr()?);
                }
                if !self.eat(')') {
                    return Err(format!("`{n}(` is not closed"));
                }
                match (n.as_str(), args.len()) {
                    ("min" | "max", 2..) => Ok(Expr::Call(n, args)),
                    ("len", 1) if matches!(args[0], Expr::Param(_)) => Ok(Expr::Call(n, args)),
                    ("len", _) => Err("`len` takes the name of one list parameter".into()),
                    ("min" | "max", _) => Err(format!("`{n}` takes two or more values")),
                    _ => Err(format!(
                        "unknown function `{n}` (there are `min`, `max` and `len`)"
                    )),
                }
            }
            Some(Token::Sym('(')) => {
                self.at += 1;
                let e = self.expr()?;
                if !self.eat(')') {
                    return Err("a `(` is not closed".into());
                }
                Ok(e)
            }
            Some(Token::Sym(c)) => Err(format!("unexpected `{c}`")),
            None => Err("the expression ends too early".into()),
        }
    }
}

impl Expr {
    pub fn parse(text: &str) -> Result<Expr, String> {
        let mut p = Parser {
            tokens: tokens(text)?,
            at: 0,
        };
        let e = p.expr()?;
        match p.peek() {
            None => Ok(e),
            Some(t) => Err(format!("unexpected {t:?} after the expression")),
        }
    }

    /// The value for one call: `params[i]` is bound to `args[i]`.
    pub fn eval(&self, params: &[String], args: &[Arg]) -> Result<i64, String> {
        let arg = |name: &str| {
            params
                .iter()
                .position(|p| p == name)
                .and_then(|i| args.get(i))
                .ok_or_else(|| {
                    format!(
                        "`{name}` is not a parameter (the parameters are {})",
                        params
                            .iter()
                            .map(|p| format!("`{p}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
        };
        match self {
            Expr::Int(i) => Ok(*i),
            Expr::Param(p) => match arg(p)? {
                Arg::Int(i) => Ok(*i),
                _ => Err(format!("`{p}` is a list: write `len({p})`")),
            },
            Expr::Call(name, args_e) if name == "len" => {
                let Expr::Param(p) = &args_e[0] else {
                    return Err("`len` takes the name of one list parameter".into());
                };
                arg(p)?
                    .len()
                    .map(|n| n as i64)
                    .ok_or_else(|| format!("`{p}` is a number, not a list"))
            }
            Expr::Call(name, args_e) => {
                let values = args_e
                    .iter()
                    .map(|e| e.eval(params, args))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if name == "min" {
                    values.into_iter().min().unwrap_or(0)
                } else {
                    values.into_iter().max().unwrap_or(0)
                })
            }
            Expr::Bin(a, op, b) => {
                let (a, b) = (a.eval(params, args)?, b.eval(params, args)?);
                match op {
                    '+' => a.checked_add(b),
                    '-' => a.checked_sub(b),
                    '*' => a.checked_mul(b),
                    _ => a.checked_div(b),
                }
                .ok_or_else(|| format!("`{self}` overflows or divides by zero"))
            }
        }
    }
}

/// `count_concurrently(threads, increments)` → the function's path and its
/// parameters' names.
pub fn parse_signature(text: &str) -> Result<(String, Vec<String>), String> {
    let bad = || {
        format!(
            "`{text}` should be the function and its parameters' names, like \
             `parallel_sum(numbers, workers)`"
        )
    };
    let (path, rest) = text.trim().split_once('(').ok_or_else(bad)?;
    let inner = rest.trim().strip_suffix(')').ok_or_else(bad)?;
    let path = path.trim();
    let ident = |s: &str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if path.is_empty() || !path.split("::").all(ident) {
        return Err(bad());
    }
    let params: Vec<String> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !params.iter().all(|p| ident(p)) {
        return Err(bad());
    }
    Ok((path.to_string(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rules_are_evaluated_against_the_arguments() {
        let params = p(&["numbers", "workers"]);
        let args = [Arg::List(vec![1, 2]), Arg::Int(4)];
        let e = Expr::parse("max(1, min(workers, len(numbers)))").unwrap();
        assert_eq!(e.eval(&params, &args), Ok(2));
        assert_eq!(
            Expr::parse("workers * 2 - 1").unwrap().eval(&params, &args),
            Ok(7)
        );
        assert_eq!(
            Expr::parse("(workers + 2) / 3")
                .unwrap()
                .eval(&params, &args),
            Ok(2)
        );
    }

    #[test]
    fn mistakes_are_named() {
        let params = p(&["numbers", "workers"]);
        let args = [Arg::List(vec![1, 2]), Arg::Int(4)];
        let err = Expr::parse("numbers").unwrap().eval(&params, &args);
        assert!(err.unwrap_err().contains("len(numbers)"));
        let err = Expr::parse("thread").unwrap().eval(&params, &args);
        assert!(err.unwrap_err().contains("not a parameter"));
        assert!(Expr::parse("min(1)").is_err());
        assert!(
            Expr::parse("avg(1, 2)")
                .unwrap_err()
                .contains("unknown function")
        );
        assert!(Expr::parse("1 +").is_err());
        assert!(Expr::parse("(1").is_err());
        assert!(Expr::parse("1 2").is_err());
        assert!(Expr::parse("1 / 0").unwrap().eval(&[], &[]).is_err());
    }

    #[test]
    fn signatures_and_arguments() {
        assert_eq!(
            parse_signature("parallel_sum(numbers, workers)"),
            Ok(("parallel_sum".into(), p(&["numbers", "workers"])))
        );
        assert!(parse_signature("parallel_sum").is_err());
        assert!(parse_signature("f(a b)").is_err());
        assert_eq!(Arg::List(vec![1, 2]).rust(), "vec![1, 2]");
        assert_eq!(
            Arg::Lists(vec![vec![1], vec![]]).rust(),
            "vec![vec![1], vec![]]"
        );
        let parsed: Vec<Arg> = serde_json::from_str("[3, [1, 2], [[1], [2, 3]], []]").unwrap();
        assert_eq!(
            parsed,
            vec![
                Arg::Int(3),
                Arg::List(vec![1, 2]),
                Arg::Lists(vec![vec![1], vec![2, 3]]),
                Arg::List(vec![])
            ]
        );
        let params = p(&["parts"]);
        let len = Expr::parse("len(parts)").unwrap();
        assert_eq!(len.eval(&params, &[parsed[2].clone()]), Ok(2));
        assert_eq!(
            Arg::List((1..=10).collect()).shown(),
            "vec![1, 2, 3, 4, 5, 6, ... 4 more]"
        );
    }
}
