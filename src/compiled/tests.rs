//! Tests of reading what rustc compiled: real v0 symbol names and IR
//! excerpts, and dep-info files as rustc writes them.

use super::*;

// Real v0 names: `std::thread::spawnhook::run_spawn_hooks`,
// `<core::sync::atomic::AtomicUsize>::new` (instantiated in the crate),
// `shared_counter::main`, `shared_counter::count_concurrently`,
// `loom::rt::step`.
const SAMPLE: &str = r#"
@vtable.0 = private unnamed_addr constant <{ ptr, ptr }> <{ ptr @_RNvNtNtCsjrHSEGnQ3l9_3std6thread9spawnhook15run_spawn_hooks, ptr @x }>, align 8
@alloc_1 = private unnamed_addr constant [20 x i8] c"@_RNvNtNtCsjrHSEGnQ3l9_3std6thread9spawnhook15run_spawn_hooks", align 1
define internal void @_RNvCsi5Sibq95Ax4_14shared_counter4main() unnamed_addr #0 {
  call void @_RNvNtNtCsjrHSEGnQ3l9_3std6thread9spawnhook15run_spawn_hooks(), !dbg !10
  ret void
}
define void @_RNvCsi5Sibq95Ax4_14shared_counter18count_concurrently() unnamed_addr #0 {
start:
  %x = call ptr @_RNvMs1v_NtNtCsgEmfK2I1SDS_4core4sync6atomicNtB6_11AtomicUsize3newCsi5Sibq95Ax4_14shared_counter(i64 0), !dbg !12
  invoke void @_RNvNtNtCsjrHSEGnQ3l9_3std6thread9spawnhook15run_spawn_hooks()
          to label %bb1 unwind label %bb2, !dbg !13
  store ptr @vtable.0, ptr %y
  store ptr @alloc_1, ptr %z
  ret void
}
define void @_RNvNtCsgZb2i6T5j0Z_4loom2rt4step() unnamed_addr #0 {
  call void @_RNvNtNtCsjrHSEGnQ3l9_3std6thread9spawnhook15run_spawn_hooks()
  ret void
}
!5 = !DIFile(filename: "lib.rs", directory: "/x")
!9 = distinct !DISubprogram(name: "own", scope: !5, file: !5, line: 3)
!11 = !DILexicalBlock(scope: !9, file: !5, line: 4, column: 1)
!12 = !DILocation(line: 7, column: 9, scope: !11)
!13 = !DILocation(line: 8, column: 9, scope: !11)
"#;

const RULES: &[Rule] = &[
    Rule {
        prefix: "std::thread",
        except: &[],
    },
    Rule {
        prefix: "core::sync",
        except: &["Ordering"],
    },
];

#[test]
fn references_of_own_functions_are_found_with_their_line() {
    let ir = parse_ir(SAMPLE);
    let skip = |n: &str| n == "shared_counter::main";
    let found = ir.reaches(&["shared_counter"], &skip, RULES);
    let items: Vec<(&str, Option<u32>, usize)> = found
        .iter()
        .map(|r| (r.item.as_str(), r.line.as_ref().map(|l| l.line), r.rule))
        .collect();
    // The AtomicUsize at line 7 (through a lexical block's scope); the
    // invoked spawn at line 8 (its location on the invoke's second
    // line); the spawn through the vtable, with the line of the
    // instruction that used it (none); not the spawn of `main`
    // (skipped), of loom (not the crate's), nor the one spelled in a
    // string constant.
    assert_eq!(
        items,
        vec![
            ("core::sync::atomic::AtomicUsize", Some(7), 1),
            ("std::thread::run_spawn_hooks", Some(8), 0),
            ("std::thread::run_spawn_hooks", None, 0),
        ]
    );
    assert_eq!(found[0].line.as_ref().unwrap().file, "lib.rs");
}

#[test]
fn paths_include_generic_arguments() {
    let name = "<core::result::Result<u8, std::sync::poison::PoisonError<u8>>>::unwrap";
    assert_eq!(
        paths(name),
        vec![
            "core::result::Result",
            "u8",
            "std::sync::poison::PoisonError",
            "u8",
            "unwrap"
        ]
    );
    let rule = Rule {
        prefix: "std::sync",
        except: &["PoisonError"],
    };
    assert!(paths(name).iter().all(|p| rule.matches(p).is_none()));
    let rule = Rule {
        prefix: "std::sync",
        except: &[],
    };
    assert_eq!(
        rule.shown("std::sync::poison::mutex::Mutex"),
        "std::sync::Mutex"
    );
    assert_eq!(
        Rule {
            prefix: "core::sync",
            except: &[]
        }
        .shown("core::sync::atomic::AtomicUsize"),
        "core::sync::atomic::AtomicUsize"
    );
    assert!(rule.matches("std::synchronize").is_none());
}

#[test]
fn own_functions_include_methods_and_trait_impls() {
    let c = &["bank"];
    assert!(is_own("bank::Bank::new", c));
    assert!(is_own("<bank::Bank>::new", c));
    assert!(is_own("<bank::Bank as core::ops::drop::Drop>::drop", c));
    assert!(is_own(
        "<&bank::Bank as core::iter::IntoIterator>::into_iter",
        c
    ));
    assert!(is_own("<u64 as bank::Total>::total", c));
    assert!(is_own("bank::f::{closure#0}", c));
    assert!(!is_own("<alloc::vec::Vec<bank::Bank>>::push", c));
    assert!(!is_own("bankrupt::f", c));
}

#[test]
fn dep_info_lists_files_with_escaped_spaces() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("x.d");
    std::fs::write(
        &d,
        "out/x: src/lib.rs src/a\\ b.rs /etc/hostname\n\nsrc/lib.rs:\n",
    )
    .unwrap();
    let files = files_read(&d, Path::new("/s")).unwrap();
    assert_eq!(
        files,
        vec![
            PathBuf::from("/s/src/lib.rs"),
            PathBuf::from("/s/src/a b.rs"),
            PathBuf::from("/etc/hostname")
        ]
    );
    let out = outside(
        &[
            PathBuf::from("/s/src/lib.rs"),
            PathBuf::from("/s/src/../out/x"),
            PathBuf::from("/etc/hostname"),
        ],
        &[PathBuf::from("/s/src")],
    );
    assert_eq!(
        out,
        vec![
            PathBuf::from("/s/src/../out/x"),
            PathBuf::from("/etc/hostname")
        ]
    );
}
