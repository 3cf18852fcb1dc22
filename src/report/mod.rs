//! Reporters: a [`GradeResult`] → what a person or a machine reads.
//!
//! Human output is one line a check (✓/✗), then the details of the
//! failures. Colour only on a terminal, never with `NO_COLOR`: anstream
//! decides, anstyle writes the codes.

pub mod csv;
pub mod explain;
pub mod feedback;
pub mod github;
pub mod gradescope;
pub mod html;
pub mod html_students;
pub mod human;
pub mod json;
pub mod junit;
pub mod list;
pub mod markdown;
pub mod safe;
pub mod snippet;
pub mod teach;

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to stdout. `auto` is anstream's
    /// decision, the one clap makes for its own output: never on a pipe or
    /// a file, never with `NO_COLOR` or `CLICOLOR=0` or on a `dumb`
    /// terminal, always with `CLICOLOR_FORCE`.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
            }
        }
    }
}

/// ANSI styles (anstyle's), or nothing.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, style: anstyle::Style, s: &str) -> String {
        if self.color {
            format!("{style}{s}{style:#}")
        } else {
            s.to_string()
        }
    }
    fn fg(color: anstyle::AnsiColor) -> anstyle::Style {
        anstyle::Style::new().fg_color(Some(color.into()))
    }
    pub fn green(&self, s: &str) -> String {
        self.paint(Style::fg(anstyle::AnsiColor::Green), s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint(Style::fg(anstyle::AnsiColor::Red), s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint(Style::fg(anstyle::AnsiColor::Yellow), s)
    }
    pub fn bold(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().bold(), s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint(anstyle::Style::new().dimmed(), s)
    }
}

#[cfg(test)]
mod tests {
    use super::Style;

    #[test]
    fn the_codes_are_the_plain_sgr_ones() {
        let on = Style { color: true };
        assert_eq!(on.green("a"), "\x1b[32ma\x1b[0m");
        assert_eq!(on.red("a"), "\x1b[31ma\x1b[0m");
        assert_eq!(on.yellow("a"), "\x1b[33ma\x1b[0m");
        assert_eq!(on.bold("a"), "\x1b[1ma\x1b[0m");
        assert_eq!(on.dim("a"), "\x1b[2ma\x1b[0m");
        assert_eq!(Style { color: false }.red("a"), "a");
    }
}
