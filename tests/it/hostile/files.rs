//! Hostile files and directories: links, loops, unreadable and special files,
//! sizes, encodings, garbage, deep nesting, empty configurations.

use std::os::unix::fs::symlink;
use std::path::Path;

use super::Corpus;

pub(super) fn add(c: &mut Corpus<'_>) {
    // --- Files and directories (item 6).
    let (_, conf) = c.copy();
    let link = conf.join("gone.toml");
    symlink(conf.join("nowhere.toml"), &link).unwrap();
    c.add(
        "dangling file link",
        conf,
        vec![format!(
            "{}: cannot follow the symbolic link",
            link.display()
        )],
    );
    let (_, conf) = c.copy();
    let link = conf.join("archive");
    symlink("/nonexistent/mspform/archive", &link).unwrap();
    c.add(
        "dangling directory link",
        conf,
        vec![format!(
            "{}: cannot follow the symbolic link",
            link.display()
        )],
    );
    let (_, conf) = c.copy();
    let link = conf.join("loop");
    symlink(".", &link).unwrap();
    c.add(
        "directory loop",
        conf,
        vec![format!("{}: symbolic link loop", link.display())],
    );
    let (_, conf) = c.copy();
    std::fs::create_dir_all(conf.join("sub/deeper")).unwrap();
    let link = conf.join("sub/deeper/back");
    symlink("../..", &link).unwrap();
    c.add(
        "loop through a subdirectory",
        conf,
        vec![format!("{}: symbolic link loop", link.display())],
    );
    let (_, conf) = c.copy();
    symlink(conf.join("b.toml"), conf.join("a.toml")).unwrap();
    symlink(conf.join("a.toml"), conf.join("b.toml")).unwrap();
    c.add(
        "file links to each other",
        conf.clone(),
        vec![
            format!("{}: cannot follow", conf.join("a.toml").display()),
            "(os error 40)".into(),
        ],
    );
    let (_, conf) = c.copy();
    std::fs::create_dir_all(conf.join("more")).unwrap();
    std::fs::rename(conf.join("partners.toml"), conf.join("more/partners.toml")).unwrap();
    let link = conf.join("more-again");
    symlink(conf.join("more"), &link).unwrap();
    c.add(
        "the same directory twice",
        conf,
        vec![format!("{}: this is the same directory as", link.display())],
    );
    let (_, conf) = c.copy();
    let link = conf.join("z-providers.toml");
    symlink(conf.join("providers.toml"), &link).unwrap();
    c.add(
        "the same file twice",
        conf,
        vec![format!("{}: this is the same file as", link.display())],
    );
    if Path::new("/proc/self/mem").exists() {
        let (_, conf) = c.copy();
        let link = conf.join("mem.toml");
        symlink("/proc/self/mem", &link).unwrap();
        c.add(
            "unreadable file (EIO)",
            conf,
            vec![
                format!("{}: cannot read the file", link.display()),
                "(os error 5)".into(),
            ],
        );
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let (_, conf) = c.copy();
        let locked = conf.join("coffee-shop.toml");
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&locked).is_err() {
            c.add(
                "unreadable file (permissions)",
                conf,
                vec![
                    format!("{}: cannot read the file", locked.display()),
                    "(os error 13)".into(),
                ],
            );
        } else {
            // Root: permissions do not bite and this copy is valid, so it is not
            // a case (the /proc/self/mem case above is unreadable for root too).
            eprintln!("mode-000 files are readable here (root?): that case is left out");
        }
    }
    let (_, conf) = c.copy();
    let sub = conf.join("locked");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("x.toml"), "").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&sub, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read_dir(&sub).is_err() {
            c.add(
                "unreadable directory",
                conf,
                vec![format!("{}: cannot read the directory", sub.display())],
            );
        } else {
            eprintln!("mode-000 directories are readable here (root?): that case is left out");
        }
    }
    let (_, conf) = c.copy();
    let fifo = conf.join("fifo.toml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    c.add(
        "FIFO",
        conf,
        vec![format!("{}: not a regular file", fifo.display())],
    );
    let (_, conf) = c.copy();
    let zero = conf.join("zero.toml");
    symlink("/dev/zero", &zero).unwrap();
    c.add(
        "a link to /dev/zero",
        conf,
        vec![format!("{}: not a regular file", zero.display())],
    );
    let (_, conf) = c.copy();
    let random = conf.join("random.toml");
    symlink("/dev/urandom", &random).unwrap();
    c.add(
        "a link to /dev/urandom as the configuration",
        random.clone(),
        vec![format!("{}: not a regular file", random.display())],
    );
    let (_, conf) = c.copy();
    let missing = conf.join("missing.toml");
    c.add(
        "a missing configuration",
        missing.clone(),
        vec![format!(
            "{}: cannot read the configuration",
            missing.display()
        )],
    );
    let (dir, _) = c.copy();
    let none = dir.join("none");
    std::fs::create_dir_all(&none).unwrap();
    std::fs::write(none.join("README.md"), "# customers go here\n").unwrap();
    c.add(
        "a directory without .toml files",
        none.clone(),
        vec![format!(
            "{}: the directory holds no .toml files",
            none.display()
        )],
    );

    // --- Sizes, encodings, garbage, nesting.
    let ten_mb = {
        let mut s = String::from("# a large comment\n");
        while s.len() < 10 * 1024 * 1024 {
            s.push_str("# padding padding padding padding padding padding padding padding\n");
        }
        s
    };
    c.with_file(
        "a 10 MB file",
        "big.toml",
        ten_mb.as_bytes(),
        &[": the file is "],
    );
    let mut big_string = String::from("[customers.huge]\nprovider = \"aruba\"\nname = \"");
    big_string.push_str(&"x".repeat(9 * 1024 * 1024));
    big_string.push_str("\"\n");
    c.with_file(
        "a 9 MB string",
        "huge.toml",
        big_string.as_bytes(),
        &["at most 8 MiB"],
    );
    let mut garbage = Vec::with_capacity(4096);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        garbage.push((x >> 24) as u8);
    }
    c.with_file("binary garbage", "garbage.toml", &garbage, &[":1:"]);
    c.with_file(
        "invalid UTF-8",
        "latin1.toml",
        b"[customers.cafe]\nprovider = \"aruba\"\nname = \"Caf\xe9\"\n",
        &[":3:12: the file is not valid UTF-8"],
    );
    c.with_file(
        "UTF-16",
        "utf16.toml",
        &"[providers.x]\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect::<Vec<u8>>(),
        &[":1:"],
    );
    c.with_file(
        "NUL bytes",
        "nul.toml",
        b"[customers.a]\0\0\0\n",
        &[":1:", "TOML syntax error"],
    );
    let n = 50_000;
    c.with_file(
        "50,000-deep arrays",
        "deep-arrays.toml",
        format!("a = {}{}\n", "[".repeat(n), "]".repeat(n)).as_bytes(),
        &[":1:", "nests arrays or tables"],
    );
    c.with_file(
        "50,000-deep inline tables",
        "deep-tables.toml",
        format!("a = {}1{}\n", "{ b = ".repeat(n), " }".repeat(n)).as_bytes(),
        &[":1:", "nests arrays or tables"],
    );
    c.with_file(
        "50,000-deep mixed nesting",
        "deep-mixed.toml",
        format!("a = {}1{}\n", "[{ b = ".repeat(n), " }]".repeat(n)).as_bytes(),
        &[":1:", "nests arrays or tables"],
    );
    c.with_file(
        "50,000-deep dotted key",
        "deep-dotted.toml",
        format!("{} = 1\n", vec!["a"; n].join(".")).as_bytes(),
        &[":1:1: ", "nests arrays or tables"],
    );
    c.with_file(
        "50,000-deep table header",
        "deep-header.toml",
        format!("[customers.{}]\n", vec!["a"; n].join(".")).as_bytes(),
        &[":1:1: ", "nests arrays or tables"],
    );
    c.with_file(
        "50,000 unclosed brackets",
        "unclosed.toml",
        format!("a = {}\n", "[".repeat(n)).as_bytes(),
        &[":1:", "TOML syntax error"],
    );
    c.with_file(
        "an unterminated string",
        "unterminated.toml",
        b"[customers.x]\nname = \"never closed\n",
        &[":2:", "TOML syntax error"],
    );
    c.with_file(
        "a duplicate key",
        "dup.toml",
        b"[customers.x]\nname = \"a\"\nname = \"b\"\n",
        &[":3:1: ", "duplicate key"],
    );
    c.with_file(
        "an unknown top-level table",
        "typo.toml",
        b"[customer.x]\nname = \"a\"\n",
        &[":1:2: ", "unknown key `customer`"],
    );

    // --- Empty files (items 7 and 9).
    let (dir, _) = c.copy();
    for (name, text) in [
        ("empty.toml", ""),
        ("blank.toml", "\n\n   \n"),
        ("comments.toml", "# all customers moved out\n"),
        ("no-providers.toml", "[providers]\n"),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        c.add(
            format!("top-level {name}"),
            path.clone(),
            vec![format!(
                "{}: the configuration declares no provider",
                path.display()
            )],
        );
    }
    let (dir, _) = c.copy();
    let empties = dir.join("empties");
    std::fs::create_dir_all(empties.join("sub")).unwrap();
    std::fs::write(empties.join("a.toml"), "").unwrap();
    std::fs::write(empties.join("sub/b.toml"), "# nothing\n").unwrap();
    c.add(
        "a directory of empty files",
        empties.clone(),
        vec![format!(
            "{}: the configuration declares no provider",
            empties.display()
        )],
    );
}
