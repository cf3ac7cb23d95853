//! Tests of the sentence and long-sentence splitters: golden cases, list items, and properties (pieces tile the input).

use super::*;
use proptest::prelude::*;

fn sentences(text: &str) -> Vec<&str> {
    split_sentences(text)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

fn long_pieces(text: &str, max_chars: usize) -> Vec<&str> {
    split_long(text, max_chars)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

#[test]
fn sentence_cases() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty", "", &[]),
        ("only whitespace", " \n\t ", &[]),
        (
            "full stop",
            "Hello World. My name is Jonas.",
            &["Hello World.", "My name is Jonas."],
        ),
        (
            "question mark",
            "What is your name? My name is Jonas.",
            &["What is your name?", "My name is Jonas."],
        ),
        (
            "exclamation mark",
            "There it is! I found it.",
            &["There it is!", "I found it."],
        ),
        (
            "doubled ?!",
            "Really?! Yes. Hello!! Who?? Me.",
            &["Really?!", "Yes.", "Hello!!", "Who??", "Me."],
        ),
        (
            "no final punctuation",
            "One. Two without a stop",
            &["One.", "Two without a stop"],
        ),
        (
            "titles",
            "Mr. Smith met Dr. Jones and Mrs. Brown. They talked.",
            &["Mr. Smith met Dr. Jones and Mrs. Brown.", "They talked."],
        ),
        (
            "ranks",
            "Sen. Warren, Gov. Newsom and Lt. Col. Smith spoke. Prof. Lee left.",
            &[
                "Sen. Warren, Gov. Newsom and Lt. Col. Smith spoke.",
                "Prof. Lee left.",
            ],
        ),
        (
            "latin",
            "Bring fruit, e.g. Apples, i.e. Fresh ones. Also bread, etc. Thanks.",
            &[
                "Bring fruit, e.g. Apples, i.e. Fresh ones.",
                "Also bread, etc. Thanks.",
            ],
        ),
        (
            "a.m. and p.m.",
            "At 5 a.m. Mr. Smith left. He was back by 6 p.m. Nobody saw him.",
            &[
                "At 5 a.m. Mr. Smith left.",
                "He was back by 6 p.m.",
                "Nobody saw him.",
            ],
        ),
        (
            "companies",
            "Acme Inc. Announced results. Shares rose.",
            &["Acme Inc. Announced results.", "Shares rose."],
        ),
        (
            "U.S.",
            "The U.S. Senate voted. The U.K. Parliament did not.",
            &["The U.S. Senate voted.", "The U.K. Parliament did not."],
        ),
        (
            "month",
            "It happened on Oct. 19, 2023. Nobody noticed.",
            &["It happened on Oct. 19, 2023.", "Nobody noticed."],
        ),
        (
            "No. before a number only",
            "See No. 5 on the list. No. That is wrong.",
            &["See No. 5 on the list.", "No.", "That is wrong."],
        ),
        (
            "page abbreviation",
            "Please turn to p. 55. Then stop.",
            &["Please turn to p. 55.", "Then stop."],
        ),
        (
            "abbreviations the normalizer knew and the splitter did not",
            "It is approx. 5 km away. The Dept. of Justice and Ft. Worth police agreed. \
                 Gens. Smith and Lee left.",
            &[
                "It is approx. 5 km away.",
                "The Dept. of Justice and Ft. Worth police agreed.",
                "Gens. Smith and Lee left.",
            ],
        ),
        (
            "a.k.a. introduces a name, even an opener",
            "He is Bob, a.k.a. The Builder. He builds.",
            &["He is Bob, a.k.a. The Builder.", "He builds."],
        ),
        (
            "v. between names",
            "Roe v. Wade was overturned. It was 2022.",
            &["Roe v. Wade was overturned.", "It was 2022."],
        ),
        (
            "Dr. as a street ends a sentence before an opener, as a title never",
            "They live on Elm Dr. The house is big. Dr. Who is a show. We met Dr. Who.",
            &[
                "They live on Elm Dr.",
                "The house is big.",
                "Dr. Who is a show.",
                "We met Dr. Who.",
            ],
        ),
        (
            "St. after a comma is a title",
            "We met Jones, St. John and Lee. They left.",
            &["We met Jones, St. John and Lee.", "They left."],
        ),
        (
            "a state ends a sentence before any capitalised word",
            "The family moved to Calif. Smith said the move was hard. In Pasadena, Calif., \
                 police said so. Pasadena, Calif. police agreed. PASADENA, Calif. (AP) — Rain.",
            &[
                "The family moved to Calif.",
                "Smith said the move was hard.",
                "In Pasadena, Calif., police said so.",
                "Pasadena, Calif. police agreed.",
                "PASADENA, Calif. (AP) — Rain.",
            ],
        ),
        (
            "a state before a ZIP code",
            "Write to Pasadena, Calif. 91101 today.",
            &["Write to Pasadena, Calif. 91101 today."],
        ),
        (
            "initial",
            "My name is Jonas E. Smith. Hi.",
            &["My name is Jonas E. Smith.", "Hi."],
        ),
        (
            "the pronoun I is not an initial",
            "It was you and I. Then we left.",
            &["It was you and I.", "Then we left."],
        ),
        (
            "decimals",
            "Pi is 3.14 exactly. She has $100.00. It is in her bag.",
            &[
                "Pi is 3.14 exactly.",
                "She has $100.00.",
                "It is in her bag.",
            ],
        ),
        (
            "digit starts a sentence",
            "It ended in 1998. 2000 was better.",
            &["It ended in 1998.", "2000 was better."],
        ),
        (
            "lower case continues the sentence",
            "She works at Yahoo! in the accounts team. Ok.",
            &["She works at Yahoo! in the accounts team.", "Ok."],
        ),
        (
            "closing quote belongs to the sentence",
            "She said, \"Stop.\" Then she left.",
            &["She said, \"Stop.\"", "Then she left."],
        ),
        (
            "quoted sentence inside a sentence",
            "She turned to him, \"This is great.\" she said.",
            &["She turned to him, \"This is great.\" she said."],
        ),
        (
            "single quotes",
            "He said 'Go.' Nobody moved.",
            &["He said 'Go.'", "Nobody moved."],
        ),
        (
            "curly quotes",
            "He wrote “It works.” Nobody believed him. Is it? “Yes,” she said.",
            &[
                "He wrote “It works.”",
                "Nobody believed him.",
                "Is it?",
                "“Yes,” she said.",
            ],
        ),
        (
            "curly single quote closes",
            "He called it ‘done.’ It was not.",
            &["He called it ‘done.’", "It was not."],
        ),
        (
            "parentheses",
            "(This is an aside.) The text goes on. [A note.] (Another.)",
            &[
                "(This is an aside.)",
                "The text goes on.",
                "[A note.]",
                "(Another.)",
            ],
        ),
        (
            "ellipsis ends a sentence before a capital",
            "Wait… What happened? I never meant that.... She left.",
            &[
                "Wait…",
                "What happened?",
                "I never meant that....",
                "She left.",
            ],
        ),
        (
            "ellipsis inside a sentence",
            "I was thinking... maybe not. Or… perhaps.",
            &["I was thinking... maybe not.", "Or… perhaps."],
        ),
        (
            "bracketed omission",
            "\"Bohr [...] used the analogy [...]\" (Smith 55).",
            &["\"Bohr [...] used the analogy [...]\" (Smith 55)."],
        ),
        (
            "url",
            "The site is https://www.example.com/Page.html?Q=1. Please check it out.",
            &[
                "The site is https://www.example.com/Page.html?Q=1.",
                "Please check it out.",
            ],
        ),
        (
            "url with capitals after dots",
            "Go to www.Example.com/A.Docs for more. Thanks!",
            &["Go to www.Example.com/A.Docs for more.", "Thanks!"],
        ),
        (
            "e-mail",
            "Write to Jane.Doe@Example.com. She answers quickly.",
            &["Write to Jane.Doe@Example.com.", "She answers quickly."],
        ),
        (
            "numbered list markers",
            "1. The first item. 2. The second item. 3.) The third.",
            &[
                "1. The first item.",
                "2. The second item.",
                "3.) The third.",
            ],
        ),
        (
            "newsroom: title before a name",
            "Gov. Jane Smith said Tuesday. Lt. Col. John Doe arrived.",
            &[
                "Gov. Jane Smith said Tuesday.",
                "Lt. Col. John Doe arrived.",
            ],
        ),
        (
            "newsroom: U.S. and a decimal",
            "The U.S. economy grew 2.5 percent. Analysts were surprised.",
            &[
                "The U.S. economy grew 2.5 percent.",
                "Analysts were surprised.",
            ],
        ),
        (
            "newsroom: a.m. ends a sentence before a pronoun",
            "He left at 9 a.m. He returned at noon.",
            &["He left at 9 a.m.", "He returned at noon."],
        ),
        (
            "a.m. before a parenthesis or a quote",
            "It began at 3 p.m. (local time). It ended at 5 p.m. “We won,” he said.",
            &[
                "It began at 3 p.m. (local time).",
                "It ended at 5 p.m.",
                "“We won,” he said.",
            ],
        ),
        (
            "a.m. before a day or a time zone",
            "Polls open at 7 a.m. Tuesday and close at 8 p.m. EST in most states.",
            &["Polls open at 7 a.m. Tuesday and close at 8 p.m. EST in most states."],
        ),
        (
            "upper-case P.M. before a name ends the sentence",
            "He left the bank at 6 P.M. Mr. Smith then went to the store.",
            &[
                "He left the bank at 6 P.M.",
                "Mr. Smith then went to the store.",
            ],
        ),
        (
            "newsroom: company form inside and at the end",
            "She works at Acme Inc. in Ohio. Her boss runs Pitt, Briggs & Co. It is small.",
            &[
                "She works at Acme Inc. in Ohio.",
                "Her boss runs Pitt, Briggs & Co.",
                "It is small.",
            ],
        ),
        (
            "initialisms before a name and at a sentence end",
            "I work for the U.S. Government. I live in the U.S. How about you? The E.U. It grew.",
            &[
                "I work for the U.S. Government.",
                "I live in the U.S.",
                "How about you?",
                "The E.U.",
                "It grew.",
            ],
        ),
        (
            "Jr. and St.",
            "He met John Smith Jr. They spoke on Main St. Later St. Louis won.",
            &[
                "He met John Smith Jr.",
                "They spoke on Main St.",
                "Later St. Louis won.",
            ],
        ),
        (
            "an initial before a sentence-opening word",
            "They chose Plan B. The rest agreed with Jonas E. Smith.",
            &["They chose Plan B.", "The rest agreed with Jonas E. Smith."],
        ),
        (
            "I as an initial after a name",
            "We make a good team, you and I. Did you see Albert I. Jones?",
            &[
                "We make a good team, you and I.",
                "Did you see Albert I. Jones?",
            ],
        ),
        (
            "a Roman I after a word that numbers things is no initial",
            "He fought in World War I. Veterans of that war came home. Read Part I. \
                 Smith wrote it. Mary I. Smith and Albert I. Jones stayed.",
            &[
                "He fought in World War I.",
                "Veterans of that war came home.",
                "Read Part I.",
                "Smith wrote it.",
                "Mary I. Smith and Albert I. Jones stayed.",
            ],
        ),
        (
            "a letter after a word that numbers things is a label",
            "They chose Type A. Smith agreed. See Appendix C. Jones wrote it.",
            &[
                "They chose Type A.",
                "Smith agreed.",
                "See Appendix C.",
                "Jones wrote it.",
            ],
        ),
        (
            "newsroom: curly quotes end sentences",
            "“We won,” she said. “It's over.” Then she left.",
            &["“We won,” she said.", "“It's over.”", "Then she left."],
        ),
        (
            "newsroom: quoted question",
            "He asked, \"Why?\" Then he left.",
            &["He asked, \"Why?\"", "Then he left."],
        ),
        (
            "newsroom: parenthetical sentence",
            "(See page 4.) Next sentence.",
            &["(See page 4.)", "Next sentence."],
        ),
        (
            "newsroom: e-mail and URL mid-sentence",
            "Contact press@example.org or visit https://example.org/News.html for details. Thanks.",
            &[
                "Contact press@example.org or visit https://example.org/News.html for details.",
                "Thanks.",
            ],
        ),
        (
            "inline numbered list without full stops",
            "1) The first item 2) The second item",
            &["1) The first item", "2) The second item"],
        ),
        (
            "inline list with full-stop markers",
            "1. The first item 2. The second item 3. The third",
            &["1. The first item", "2. The second item", "3. The third"],
        ),
        (
            "lettered list",
            "a. The first item b. The second item c) Not the same style",
            &[
                "a. The first item",
                "b. The second item c) Not the same style",
            ],
        ),
        (
            "list on lines of its own",
            "Steps:\n1. Mix the flour\n2. Add eggs\n3. Bake",
            &["Steps:\n1. Mix the flour", "2. Add eggs", "3. Bake"],
        ),
        (
            "bullets",
            "• 9. The first item • 10. The second item ⁃ A third",
            &["• 9. The first item", "• 10. The second item", "⁃ A third"],
        ),
        (
            "inline list inside one sentence",
            "You need: 1) flour, 2) eggs, and 3) milk. Then bake.",
            &["You need: 1) flour, 2) eggs, and 3) milk.", "Then bake."],
        ),
        (
            "numbers that are not a list",
            "It ended in 1998. 1999 was better. Plan a. Then plan b. Then stop.",
            &[
                "It ended in 1998.",
                "1999 was better.",
                "Plan a.",
                "Then plan b.",
                "Then stop.",
            ],
        ),
        (
            "Roman list inline",
            "I. Introduction II. Methods III. Results",
            &["I. Introduction", "II. Methods", "III. Results"],
        ),
        (
            "Roman list on lines of its own",
            "I. Introduction\nII. Methods\nIII. Results",
            &["I. Introduction", "II. Methods", "III. Results"],
        ),
        (
            "lower-case Roman list",
            "i) flour ii) eggs iii) milk iv) butter v) sugar",
            &[
                "i) flour",
                "ii) eggs",
                "iii) milk",
                "iv) butter",
                "v) sugar",
            ],
        ),
        (
            "lower-case Roman list with full stops",
            "Steps:\ni. Mix the flour\nii. Add eggs",
            &["Steps:\ni. Mix the flour", "ii. Add eggs"],
        ),
        (
            "Roman list inside one sentence",
            "You need: i) flour, ii) eggs, and iii) milk. Then bake.",
            &["You need: i) flour, ii) eggs, and iii) milk.", "Then bake."],
        ),
        (
            "a letter list past i keeps the letter reading",
            "a) one b) two c) three d) four e) five f) six g) seven h) eight i) nine j) ten",
            &[
                "a) one", "b) two", "c) three", "d) four", "e) five", "f) six", "g) seven",
                "h) eight", "i) nine", "j) ten",
            ],
        ),
        (
            "a Roman list looks past initials and numbered wars",
            "I. Programming in C. II. World War II. III. Results",
            &["I. Programming in C.", "II. World War II.", "III. Results"],
        ),
        (
            "a lone Roman I. is no list",
            "I. Introduction\nIt begins. We make a good team, you and I. Then what?",
            &[
                "I. Introduction\nIt begins.",
                "We make a good team, you and I.",
                "Then what?",
            ],
        ),
        (
            "spaced ellipsis inside a sentence",
            "I mean . . . what I'm saying is . . . I didn't mean it.",
            &["I mean . . . what I'm saying is . . . I didn't mean it."],
        ),
        (
            "spaced ellipsis with a fourth dot ends the sentence",
            "He stopped . . . . Next sentence.",
            &["He stopped . . . .", "Next sentence."],
        ),
        (
            "full stop then an ellipsis opening the next sentence",
            "It was compounds. . . . The practice was not abandoned. . . .",
            &[
                "It was compounds.",
                ". . . The practice was not abandoned. . . .",
            ],
        ),
        (
            "newlines are whitespace",
            "First line.\nSecond line\ncontinues.\n\nThird.",
            &["First line.", "Second line\ncontinues.", "Third."],
        ),
        (
            "surrounding whitespace is trimmed",
            "  Lead.   Trail.  ",
            &["Lead.", "Trail."],
        ),
        (
            "non-ASCII capitals",
            "Café au lait. Été arrive. Ça va.",
            &["Café au lait.", "Été arrive.", "Ça va."],
        ),
    ];
    for (name, text, expected) in cases {
        assert_eq!(&sentences(text), expected, "case {name:?}: {text:?}");
    }
}

#[test]
fn long_sentence_cases() {
    let cases: &[(&str, &str, usize, &[&str])] = &[
        ("fits", "Short enough.", 100, &["Short enough."]),
        ("empty", "  ", 10, &[]),
        (
            "clause then comma",
            "alpha beta; gamma delta, epsilon zeta",
            20,
            &["alpha beta;", "gamma delta,", "epsilon zeta"],
        ),
        (
            "clauses are preferred over commas",
            "one, two; three, four",
            15,
            &["one, two;", "three, four"],
        ),
        (
            "neighbours that fit are rejoined",
            "a; b; c; d",
            5,
            &["a; b;", "c; d"],
        ),
        (
            "spaced em dash, then words as a last resort",
            "He came back — and then he left again",
            20,
            &["He came back —", "and then he left", "again"],
        ),
        (
            "spaced en dash",
            "Pages one – two",
            11,
            &["Pages one –", "two"],
        ),
        (
            "unspaced dash is part of the word",
            "a well—known fact",
            5,
            &["a", "well—known", "fact"],
        ),
        (
            "colon inside a time is no clause boundary",
            "10:30 is the time: now",
            12,
            &["10:30 is the", "time:", "now"],
        ),
        (
            "a single long word cannot be split",
            "Supercalifragilistic",
            5,
            &["Supercalifragilistic"],
        ),
        ("counts characters, not bytes", "éé éé", 5, &["éé éé"]),
    ];
    for (name, text, max, expected) in cases {
        assert_eq!(
            &long_pieces(text, *max),
            expected,
            "case {name:?}: {text:?} max {max}"
        );
    }
}

/// The no-loss contract shared by both splitters.
fn assert_tiles(text: &str, ranges: &[Range<usize>]) -> Result<(), TestCaseError> {
    let mut previous_end = 0;
    for range in ranges {
        prop_assert!(range.start < range.end, "empty range {range:?}");
        prop_assert!(
            previous_end <= range.start,
            "overlap or disorder at {range:?}"
        );
        prop_assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        let piece = &text[range.clone()];
        prop_assert_eq!(piece.trim(), piece, "untrimmed piece");
        previous_end = range.end;
    }
    let kept: String = ranges
        .iter()
        .flat_map(|range| text[range.clone()].chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    let original: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    prop_assert_eq!(kept, original);
    Ok(())
}

#[rustfmt::skip]
    const FRAGMENTS: &[&str] = &[
        ". ", "? ", "! ", "Mr. ", "e.g. ", "U.S. ", "No. 5", "... ", "…", "\"", "'", "“", "”", "’",
        "(", ")", "[", "]", "\n", "\n\n", " ", "  ", "\t", "é", "É", "—", " — ", "; ", ": ", ", ",
        "word", "Word", "A", "I", "3.14", "1. ", "x@y.com", "\u{a0}",
        // Constructs with rules of their own.
        "2. ", "10. ", "1) ", "2) ", "1.) ", "a) ", "b) ", "a. ", "b. ", "A) ", "•", "• ", "⁃",
        ". . .", " . . . ", ". . . .", ". ", ".", "a.m. ", "P.M. ", "Co. ", "Inc. ", "St. ", "E.U. ",
        "It ", "The ", "Tuesday", "At ", "I. ", "and ", "Jr.'s",
        "II. ", "III. ", "i) ", "ii) ", "iii. ", "iv) ", "v) ", "x. ", "C. ", "c) ", "War ",
        "Calif. ", "Dr. ", "v. ", "approx. ", "Elm ",
    ];

fn messy_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        3 => proptest::sample::select(FRAGMENTS).prop_map(String::from),
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(fragment, 0..60).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn sentences_never_lose_or_reorder_text(text in messy_text()) {
        assert_tiles(&text, &split_sentences(&text))?;
    }

    #[test]
    fn long_pieces_never_lose_or_reorder_text(text in messy_text(), max in 0usize..40) {
        assert_tiles(&text, &split_long(&text, max))?;
    }

    #[test]
    fn long_pieces_are_cut_between_words_only(text in messy_text(), max in 0usize..40) {
        for range in split_long(&text, max) {
            let before = text[..range.start].chars().next_back();
            let after = text[range.end..].chars().next();
            prop_assert!(before.is_none_or(char::is_whitespace), "cut inside a word at {}", range.start);
            prop_assert!(after.is_none_or(char::is_whitespace), "cut inside a word at {}", range.end);
        }
    }

    #[test]
    fn long_pieces_exceed_the_limit_only_when_unsplittable(text in messy_text(), max in 0usize..40) {
        for range in split_long(&text, max) {
            let piece = &text[range];
            if piece.chars().count() > max {
                prop_assert!(!piece.contains(char::is_whitespace), "{piece:?} could have been split");
            }
        }
    }
}
