//! Headless Chromium driven over the DevTools protocol, for tests that
//! must use a page as a person does (click a link, see where it leads).
//!
//! The protocol runs over a pipe (`--remote-debugging-pipe`: Chromium reads
//! commands on fd 3 and writes replies and events on fd 4, each message a
//! JSON text ended by a NUL byte), so no port is opened and no crate beyond
//! serde_json is needed. Clicks are real input events at the element's
//! place on the page, not `element.click()`.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Browser {
    child: Child,
    to: File,
    rx: Receiver<Value>,
    next: u64,
    /// Every event received so far.
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    (fds[0], fds[1])
}

impl Browser {
    /// Starts headless Chromium; panics, saying what to install, when it
    /// is absent.
    pub fn launch() -> Browser {
        let chromium = PathBuf::from(CHROMIUM);
        assert!(
            chromium.exists(),
            "{CHROMIUM} is absent: install Debian's `chromium` package (.ci/run does); \
             the page was not checked in a browser"
        );
        let profile = tempfile::tempdir().unwrap();
        let (cmd_read, cmd_write) = pipe();
        let (ev_read, ev_write) = pipe();
        let mut cmd = Command::new(&chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-pipe",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(profile.path().join("stderr.log")).unwrap());
        // SAFETY: only async-signal-safe calls (dup2, close) between fork
        // and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(cmd_read, 3) < 0 || libc::dup2(ev_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                for fd in [cmd_write, ev_read] {
                    libc::close(fd);
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        // SAFETY: these descriptors are ours and used once each.
        let (to, from) = unsafe {
            libc::close(cmd_read);
            libc::close(ev_write);
            (File::from_raw_fd(cmd_write), File::from_raw_fd(ev_read))
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
        Browser {
            child,
            to,
            rx,
            next: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    fn receive(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer in time"),
            Err(RecvTimeoutError::Disconnected) => panic!(
                "chromium closed its pipe ({:?}); its stderr:\n{}",
                self.child.try_wait(),
                std::fs::read_to_string(self._profile.path().join("stderr.log"))
                    .unwrap_or_default()
            ),
        }
    }

    /// Sends a command (to a page's session, or to the browser) and waits
    /// for its reply; events that arrive meanwhile are kept.
    #[track_caller]
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.receive(deadline);
            if v["id"] == id {
                if let Some(e) = v.get("error") {
                    panic!("{method} failed: {e}");
                }
                return v["result"].clone();
            }
            self.events.push(v);
        }
    }

    /// Waits for an event named `method`.
    pub fn wait_for(&mut self, method: &str) -> Value {
        if let Some(e) = self.events.iter().find(|e| e["method"] == method) {
            return e.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.receive(deadline);
            self.events.push(v.clone());
            if v["method"] == method {
                return v;
            }
        }
    }

    /// Opens `file` in a new page; returns the page's session.
    pub fn open(&mut self, file: &Path) -> String {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let session = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        )["sessionId"]
            .as_str()
            .unwrap()
            .to_string();
        for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
            self.call(Some(&session), domain, json!({}));
        }
        self.call(
            Some(&session),
            "Page.navigate",
            json!({"url": format!("file://{}", file.display())}),
        );
        self.wait_for("Page.loadEventFired");
        session
    }

    /// Evaluates an expression in the page; its value.
    #[track_caller]
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expression}` threw: {e}");
        }
        r["result"]["value"].clone()
    }

    /// A left click at a point of the page's viewport, as a mouse gives it.
    pub fn click(&mut self, session: &str, x: f64, y: f64) {
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                Some(session),
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Console messages, uncaught exceptions and log entries of level
    /// error or warning, as text.
    pub fn complaints(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Runtime.consoleAPICalled"
                        && ["error", "warning"]
                            .contains(&e["params"]["type"].as_str().unwrap_or("")))
                    || (e["method"] == "Log.entryAdded"
                        && ["error", "warning"]
                            .contains(&e["params"]["entry"]["level"].as_str().unwrap_or("")))
            })
            .map(|e| e.to_string())
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
