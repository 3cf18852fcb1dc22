//! `grader watch`: the student's loop of write, save, understand.
//!
//! It grades the exercise being worked on, then again whenever one of its
//! sources under `exercises/<id>/src/` is saved, and redraws the screen with
//! the report. A save in another exercise's folder makes that one current:
//! it is the one being worked on. When the current exercise passes, `watch`
//! says so and waits for `n` before moving on to the next one not done —
//! never on its own (auto-advance was rejected by rustlings for a reason:
//! a student who sees the pass should also get to read why it passed).
//! Other keys: `h` the hint, `l` the list, `r` grade again, `q` quit.
//!
//! Every grading is recorded in the progress file, exactly as `check` does,
//! so `list` and the next `watch` start where the student left off; `watch`
//! starts at the first exercise not done.
//!
//! Moving parts: one thread reads keys (crossterm, raw mode), the file
//! watcher (notify) runs its own, and each grading runs on a thread of its
//! own; all three send to one channel that the main thread drains and draws
//! from. Saves are debounced there: a burst of writes is graded once, when
//! the files have been quiet for [`DEBOUNCE`]. Only writes count: notify
//! also reports files being opened, and the grader opens the sources to
//! grade them, so counting opens would grade forever. At most one grading
//! runs at a time: two at once on a 2-core machine would skew the timing
//! checks of both. A save during a grading is remembered and graded when
//! it ends.
//!
//! Not here: the report itself ([`crate::report::human`]) and the list
//! ([`crate::report::list`]), which `check` and `list` print the same way.

use crate::grade::{GradeResult, Grader, ResultStatus};
use crate::progress::{self, Progress, Row};
use crate::project::Project;
use crate::report::{Style, human, list};
use crate::spec::ExerciseSpec;
use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, queue, terminal};
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecursiveMode, Watcher};
use std::io::{self, IsTerminal, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

/// What stops `watch` (no terminal, no exercises, a folder that cannot be
/// watched): one line, exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Grade(#[from] crate::grade::GradeError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Whether it is only the reader of the output gone away.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

/// How long the files must be quiet before a save is graded: editors write
/// a file in several steps (truncate, write, rename), and one save must be
/// one grading. Short, so the answer still feels immediate.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// What the main thread hears about.
enum Msg {
    Key(KeyEvent),
    Resize,
    /// Files were written (not yet debounced).
    Written(Vec<PathBuf>),
    WatchFailed(String),
    Graded {
        id: String,
        /// The sources' hash when the grading began: what was graded.
        sources: u64,
        result: Result<GradeResult, String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Report,
    List,
}

struct App<'a> {
    project: &'a Project,
    grader: Arc<Grader>,
    tx: Sender<Msg>,
    style: Style,
    rows: Vec<Row>,
    specs: Vec<ExerciseSpec>,
    current: usize,
    /// The last result of the current exercise.
    result: Option<GradeResult>,
    /// A grading is running (of whichever exercise).
    running: bool,
    /// The current exercise must be graded (again) once the running
    /// grading ends.
    wanted: bool,
    view: View,
    show_hint: bool,
    /// One line about the last key or event, until the next one.
    note: Option<String>,
}

/// Runs `watch` until the student quits.
pub fn run(project: &Project, start: Option<&str>, style: Style) -> Result<u8, Error> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(Error::Other(
            "`grader watch` needs a terminal to read keys from; without one, grade with \
             `grader check <id>`"
                .into(),
        ));
    }
    let rows = progress::overview(project)?;
    if rows.is_empty() {
        return Err(Error::Other(format!(
            "{} holds no exercises",
            project.graders_dir().display()
        )));
    }
    let current = match start {
        Some(id) => {
            project.spec(id)?;
            rows.iter().position(|r| r.spec.id == id).unwrap_or(0)
        }
        None => progress::next_not_done(&rows, 0).unwrap_or(0),
    };
    let grader = Arc::new(Grader::new(project.clone())?);
    // Before the screen is taken: the one-time build says what it does.
    let specs: Vec<ExerciseSpec> = rows.iter().map(|r| r.spec.clone()).collect();
    grader.prebuild_model(&specs)?;
    let (tx, rx) = mpsc::channel();

    // Canonical, as some platforms report events (macOS: `/private/var/…`
    // for `/var/…`), so that `source_of` can strip it.
    let exercises = project.root.join("exercises");
    let exercises = exercises.canonicalize().unwrap_or(exercises);
    let watched = tx.clone();
    let cannot_watch =
        |e: notify::Error| Error::Other(format!("cannot watch {}: {e}", exercises.display()));
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        let msg = match res {
            Ok(event) if is_write(&event.kind) => Msg::Written(event.paths),
            Ok(_) => return,
            Err(e) => Msg::WatchFailed(e.to_string()),
        };
        let _ = watched.send(msg);
    })
    .map_err(cannot_watch)?;
    watcher
        .watch(&exercises, RecursiveMode::Recursive)
        .map_err(cannot_watch)?;

    let terminal = Terminal::enter()?;
    let keys = tx.clone();
    std::thread::spawn(move || {
        loop {
            let msg = match event::read() {
                Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => Msg::Key(k),
                Ok(Event::Resize(..)) => Msg::Resize,
                Ok(_) => continue,
                Err(_) => break,
            };
            if keys.send(msg).is_err() {
                break;
            }
        }
    });

    let mut app = App {
        project,
        grader,
        tx,
        style,
        rows,
        specs,
        current,
        result: None,
        running: false,
        wanted: false,
        view: View::Report,
        show_hint: false,
        note: None,
    };
    app.grade();
    app.draw()?;
    // Saves not yet graded, and when the files will have been quiet long
    // enough to grade them.
    let mut saved: Vec<String> = Vec::new();
    let mut quiet_at: Option<Instant> = None;
    loop {
        let msg = match quiet_at {
            None => rx.recv().map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(t) => rx.recv_timeout(t.saturating_duration_since(Instant::now())),
        };
        let msg = match msg {
            Ok(msg) => msg,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                quiet_at = None;
                app.saved(&std::mem::take(&mut saved));
                app.draw()?;
                continue;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        match msg {
            Msg::Key(key) => {
                if !app.key(key) {
                    break;
                }
            }
            Msg::Resize => {}
            Msg::Written(paths) => {
                let ids: Vec<String> = paths
                    .iter()
                    .filter_map(|p| source_of(&exercises, p))
                    .map(String::from)
                    .collect();
                if !ids.is_empty() {
                    saved.extend(ids);
                    quiet_at = Some(Instant::now() + DEBOUNCE);
                }
                continue;
            }
            Msg::WatchFailed(e) => app.note = Some(format!("watching the files failed: {e}")),
            Msg::Graded {
                id,
                sources,
                result,
            } => app.graded(&id, sources, result),
        }
        app.draw()?;
    }
    drop(terminal);
    let done = app.rows.iter().filter(|r| r.status.is_done()).count();
    println!(
        "\nStopped watching: {done}/{} exercises done. `grader watch` picks up where you left off.",
        app.rows.len()
    );
    Ok(0)
}

impl App<'_> {
    fn spec(&self) -> &ExerciseSpec {
        &self.rows[self.current].spec
    }

    /// Grades the current exercise now, or once the running grading ends.
    fn grade(&mut self) {
        if self.running {
            self.wanted = true;
            return;
        }
        self.running = true;
        self.wanted = false;
        let spec = self.spec().clone();
        let dir = self.project.exercise_dir(&spec.id);
        let grader = Arc::clone(&self.grader);
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let sources = progress::sources_hash(&dir);
            let result = grader.grade(&spec, &dir).map_err(|e| e.to_string());
            let _ = tx.send(Msg::Graded {
                id: spec.id.clone(),
                sources,
                result,
            });
        });
    }

    fn graded(&mut self, id: &str, sources: u64, result: Result<GradeResult, String>) {
        self.running = false;
        if let Ok(r) = &result
            && r.status != ResultStatus::Error
        {
            Progress::record_graded(self.project, r, sources);
        }
        if let Ok(rows) = progress::overview(self.project) {
            self.rows = rows;
        }
        if id == self.spec().id {
            match result {
                Ok(r) => self.result = Some(r),
                Err(e) => {
                    self.result = None;
                    self.note = Some(format!("could not grade {id}: {e}"));
                }
            }
        }
        if self.wanted {
            self.grade();
        }
    }

    /// Makes exercise `i` current and grades it.
    fn switch(&mut self, i: usize) {
        if i != self.current {
            self.current = i;
            self.result = None;
            self.show_hint = false;
        }
        self.view = View::Report;
        self.grade();
    }

    /// Files of the exercises `ids` were saved.
    fn saved(&mut self, ids: &[String]) {
        let Some(first) = ids.first() else {
            return;
        };
        // The exercise being worked on: the current one if it was saved,
        // else the first one that was.
        let current = self.spec().id.clone();
        let id = if ids.contains(&current) {
            &current
        } else {
            first
        };
        if let Some(i) = self.rows.iter().position(|r| &r.spec.id == id) {
            self.note = None;
            self.switch(i);
        }
    }

    /// Handles a key; `false` to quit.
    fn key(&mut self, key: KeyEvent) -> bool {
        self.note = None;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c') | KeyCode::Char('d') if ctrl => return false,
            KeyCode::Char('q') => return false,
            KeyCode::Char('h') => {
                self.show_hint = !self.show_hint;
                self.view = View::Report;
            }
            KeyCode::Char('l') => {
                self.view = match self.view {
                    View::List => View::Report,
                    View::Report => View::List,
                };
            }
            KeyCode::Esc => self.view = View::Report,
            KeyCode::Char('r') => {
                self.view = View::Report;
                self.grade();
            }
            KeyCode::Char('n') => self.next(),
            _ => {}
        }
        true
    }

    fn next(&mut self) {
        let id = self.spec().id.clone();
        let passed = self
            .result
            .as_ref()
            .is_some_and(|r| r.status == ResultStatus::Pass);
        if !passed {
            self.note = Some(format!(
                "{id} does not pass yet: `n` moves on once it does (or save a file of another \
                 exercise to work on that one)"
            ));
            return;
        }
        match progress::next_not_done(&self.rows, self.current + 1) {
            Some(i) if i != self.current => self.switch(i),
            _ => self.note = Some("every exercise passes: nothing left to move on to".into()),
        }
    }

    fn draw(&self) -> io::Result<()> {
        let mut page = Vec::new();
        self.render(&mut page)?;
        let text = String::from_utf8_lossy(&page).replace('\n', "\r\n");
        let mut out = io::stdout().lock();
        queue!(
            out,
            terminal::Clear(terminal::ClearType::All),
            cursor::MoveTo(0, 0)
        )?;
        out.write_all(text.as_bytes())?;
        out.flush()
    }

    /// The whole screen, with `\n` line ends.
    fn render(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let style = self.style;
        let spec = self.spec();
        match self.view {
            View::List => {
                list::write(out, &self.rows, style)?;
                writeln!(out, "\n{}", style.dim(&format!("l: back to {}", spec.id)))?;
            }
            View::Report => {
                match &self.result {
                    Some(result) => {
                        let page = human::Page {
                            spec,
                            submission: &self.project.exercise_dir(&spec.id),
                            course: &self.specs,
                        };
                        human::write(out, &page, result, style)?;
                    }
                    None => writeln!(
                        out,
                        "{} {}",
                        style.bold(&spec.id),
                        style.dim(&format!("— {}", spec.lesson))
                    )?,
                }
                if self.show_hint {
                    writeln!(out, "\n{}", style.bold("Hint"))?;
                    writeln!(out, "{}", spec.hint.trim_end())?;
                }
            }
        }
        writeln!(out)?;
        if let Some(line) = self.status_line() {
            writeln!(out, "{line}")?;
        }
        if let Some(note) = &self.note {
            writeln!(out, "{}", style.yellow(note))?;
        }
        let done = self.rows.iter().filter(|r| r.status.is_done()).count();
        writeln!(
            out,
            "{} {done}/{}  {}",
            list::bar(done, self.rows.len(), style),
            self.rows.len(),
            style.dim("n next · h hint · l list · r re-grade · q quit")
        )?;
        Ok(())
    }

    fn status_line(&self) -> Option<String> {
        let style = self.style;
        let id = &self.spec().id;
        if self.running {
            return Some(style.dim(&format!("grading {id}…")));
        }
        let result = self.result.as_ref()?;
        Some(match result.status {
            ResultStatus::Pass => match progress::next_not_done(&self.rows, self.current + 1) {
                Some(i) if i != self.current => style.green(&format!(
                    "✓ {id} passes! Press n for the next exercise: {}",
                    self.rows[i].spec.id
                )),
                _ => style.green("✓ Every exercise passes. Well done! Press q to quit."),
            },
            _ => style.dim(&format!(
                "Edit exercises/{id}/src and save: it is graded again on every save."
            )),
        })
    }
}

/// Whether an event is a write: opening or reading a file is not (the
/// grader reads the sources it grades), nor is a change of its metadata.
fn is_write(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        _ => false,
    }
}

/// The exercise whose sources `path` is one of (`exercises/<id>/src/**.rs`);
/// anything else (a build in `target/`, an editor's swap file) is no save.
fn source_of<'p>(exercises: &Path, path: &'p Path) -> Option<&'p str> {
    let rel = path.strip_prefix(exercises).ok()?;
    let mut parts = rel.components();
    let Some(Component::Normal(id)) = parts.next() else {
        return None;
    };
    if parts.next() != Some(Component::Normal("src".as_ref())) {
        return None;
    }
    if path.extension().is_none_or(|e| e != "rs") {
        return None;
    }
    id.to_str()
}

/// Raw mode and a hidden cursor while `watch` runs; restored on drop, on
/// the way out of a panic too.
struct Terminal;

impl Terminal {
    fn enter() -> io::Result<Terminal> {
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        queue!(out, cursor::Hide)?;
        out.flush()?;
        Ok(Terminal)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let mut out = io::stdout();
        let _ = queue!(out, cursor::Show);
        let _ = out.flush();
        let _ = terminal::disable_raw_mode();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_file_is_no_write() {
        use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind};
        assert!(is_write(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(is_write(&EventKind::Create(CreateKind::File)));
        assert!(is_write(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(!is_write(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!is_write(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!is_write(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime
        ))));
    }

    #[test]
    fn only_sources_under_src_are_saves() {
        let ex = Path::new("/c/exercises");
        assert_eq!(
            source_of(ex, Path::new("/c/exercises/02-x/src/main.rs")),
            Some("02-x")
        );
        assert_eq!(
            source_of(ex, Path::new("/c/exercises/02-x/src/a/b.rs")),
            Some("02-x")
        );
        assert_eq!(
            source_of(ex, Path::new("/c/exercises/02-x/target/debug/src/x.rs")),
            None
        );
        assert_eq!(
            source_of(ex, Path::new("/c/exercises/02-x/src/.main.rs.swp")),
            None
        );
        assert_eq!(
            source_of(ex, Path::new("/c/exercises/02-x/README.md")),
            None
        );
        assert_eq!(
            source_of(ex, Path::new("/c/elsewhere/02-x/src/main.rs")),
            None
        );
    }
}
