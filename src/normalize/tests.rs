//! The normalizer's unit tests; the table of cases is in tests/normalize_table.rs.

use super::numbers::{decade, parse_num};
use super::*;

#[test]
fn verbatim_maps_each_byte_to_itself() {
    let spoken = Spoken::verbatim("Hello there.");
    assert_eq!(spoken.text(), "Hello there.");
    assert_eq!(spoken.written_range(6..11), 6..11);
    assert_eq!(spoken.written_range(0..12), 0..12);
}

#[test]
fn unchanged_sentence_is_verbatim() {
    let spoken = normalize("Hello there.");
    assert_eq!(spoken, Spoken::verbatim("Hello there."));
}

#[test]
fn cardinals() {
    let cases: &[(u64, &str)] = &[
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (100, "one hundred"),
        (101, "one hundred one"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (1_000_000, "one million"),
        (2_500_000_000, "two billion five hundred million"),
        (1234, "one thousand two hundred thirty-four"),
        (1_000_010, "one million ten"),
        (
            u64::MAX,
            "eighteen quintillion four hundred forty-six quadrillion seven hundred forty-four trillion \
             seventy-three billion seven hundred nine million five hundred fifty-one thousand six hundred fifteen",
        ),
    ];
    for (n, want) in cases {
        assert_eq!(cardinal(*n), *want, "{n}");
    }
}

#[test]
fn negative_cardinals() {
    assert_eq!(cardinal_signed(-7), "minus seven");
    assert_eq!(cardinal_signed(-1_000_000), "minus one million");
    assert_eq!(cardinal_signed(0), "zero");
    assert_eq!(cardinal_signed(42), "forty-two");
    assert_eq!(
        cardinal_signed(i64::MIN),
        "minus nine quintillion two hundred twenty-three quadrillion three hundred seventy-two trillion \
         thirty-six billion eight hundred fifty-four million seven hundred seventy-five thousand eight hundred eight"
    );
}

#[test]
fn ordinals() {
    let cases: &[(u64, &str)] = &[
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (4, "fourth"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (11, "eleventh"),
        (12, "twelfth"),
        (20, "twentieth"),
        (22, "twenty-second"),
        (100, "one hundredth"),
        (103, "one hundred third"),
        (1000, "one thousandth"),
    ];
    for (n, want) in cases {
        assert_eq!(ordinal(*n), *want, "{n}");
    }
}

#[test]
fn years() {
    let cases: &[(u64, &str)] = &[
        (1921, "nineteen twenty-one"),
        (2019, "twenty nineteen"),
        (2000, "two thousand"),
        (2005, "two thousand five"),
        (1900, "nineteen hundred"),
        (1905, "nineteen oh five"),
        (1066, "ten sixty-six"),
        (1000, "one thousand"),
        (2010, "twenty ten"),
        (2100, "twenty-one hundred"),
    ];
    for (n, want) in cases {
        assert_eq!(year(*n), *want, "{n}");
    }
}

#[test]
fn decades() {
    assert_eq!(decade("1990").as_deref(), Some("nineteen nineties"));
    assert_eq!(decade("1900").as_deref(), Some("nineteen hundreds"));
    assert_eq!(decade("2000").as_deref(), Some("two thousands"));
    assert_eq!(decade("2010").as_deref(), Some("twenty tens"));
    assert_eq!(decade("90").as_deref(), Some("nineties"));
    assert_eq!(decade("20").as_deref(), Some("twenties"));
    assert_eq!(decade("95"), None);
    assert_eq!(decade("00"), None);
}

#[test]
fn roman_numerals_must_be_canonical() {
    assert_eq!(roman("III"), Some(3));
    assert_eq!(roman("LVII"), Some(57));
    assert_eq!(roman("XIV"), Some(14));
    assert_eq!(roman("MCMXC"), Some(1990));
    assert_eq!(roman("IIII"), None);
    assert_eq!(roman("VX"), None);
    assert_eq!(roman("IIV"), None);
    assert_eq!(roman("ABC"), None);
    assert_eq!(roman("xiv"), Some(14));
    assert_eq!(roman("Xiv"), None);
    assert_eq!(roman("iiii"), None);
    assert_eq!(roman(""), None);
}

#[test]
fn numbers_parse_with_grouping_and_fractions() {
    let (n, len) = parse_num("1,234,567 people").unwrap();
    assert_eq!((n.int, n.frac, len), ("1,234,567", None, 9));
    let (n, len) = parse_num("3.14,").unwrap();
    assert_eq!((n.int, n.frac, len), ("3", Some("14"), 4));
    let (n, len) = parse_num("1,23").unwrap();
    assert_eq!((n.int, len), ("1", 1));
    assert!(parse_num("1234,567").is_none());
    assert!(parse_num("007").is_none());
    assert!(parse_num("abc").is_none());
}
