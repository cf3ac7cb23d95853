//! Tests of the page-furniture vocabulary: each kind of line it names, and story sentences it must keep.

use super::*;

#[test]
fn furniture_is_named_for_what_it_is() {
    let cases: &[(&str, DropReason)] = &[
        ("Listen to this article", DropReason::AudioPlayer),
        ("LISTEN TO THIS ARTICLE", DropReason::AudioPlayer),
        ("Listen to this article · 4:12 min", DropReason::AudioPlayer),
        ("▶", DropReason::NoWords),
        ("* * *", DropReason::NoWords),
        ("0:00 / 5:32", DropReason::ReadingTime),
        ("5 min read", DropReason::ReadingTime),
        ("Share", DropReason::Share),
        ("Share Tweet Email Print", DropReason::Share),
        ("Facebook | X | LinkedIn | Email", DropReason::Share),
        ("Comments (23)", DropReason::Share),
        ("Advertisement", DropReason::Advertisement),
        ("ADVERTISEMENT", DropReason::Advertisement),
        (
            "Story continues below advertisement",
            DropReason::Advertisement,
        ),
        (
            "Subscribe to our morning newsletter for the day's top stories.",
            DropReason::Subscribe,
        ),
        ("Sign up for The Morning Brief", DropReason::Subscribe),
        (
            "Read more: Council rejects pool closure",
            DropReason::ReadMore,
        ),
        ("Continue reading", DropReason::ReadMore),
        ("Related Stories", DropReason::Related),
        ("Related: Mayor names new fire chief", DropReason::Related),
        ("Enlarge this image", DropReason::Media),
        ("toggle caption", DropReason::Media),
        ("Photo: Jane Doe/Reuters", DropReason::Credit),
        ("Credit...Doug Mills/The New York Times", DropReason::Credit),
        ("AP Photo/Evan Vucci", DropReason::Credit),
        ("Evan Vucci/AP", DropReason::Credit),
        ("Jane Doe / Getty Images", DropReason::Credit),
        ("Getty Images", DropReason::Credit),
        ("By Jane Doe", DropReason::Byline),
        (
            "By JANE DOE and JOHN ROE, Associated Press",
            DropReason::Byline,
        ),
        ("By María de la Cruz | Staff Writer", DropReason::Byline),
        ("Transport reporter", DropReason::Byline),
        (
            "Reporting by Andrew Osborn; Editing by Alex Richardson",
            DropReason::Byline,
        ),
        (
            "Updated 4:12 PM EDT, Fri October 20, 2023",
            DropReason::Dateline,
        ),
        (
            "Published Oct. 20, 2023 at 5:00 a.m. ET",
            DropReason::Dateline,
        ),
        ("October 20, 2023", DropReason::Dateline),
        ("2 hours ago", DropReason::Dateline),
        ("2023-10-20 14:03", DropReason::Dateline),
        ("Published March 2024", DropReason::Dateline),
        (
            "© 2023 The Associated Press. All rights reserved. This material may not be published, broadcast, rewritten or redistributed without permission.",
            DropReason::Copyright,
        ),
        ("Copyright 2024 Example Media Group", DropReason::Copyright),
        ("Home › News › World", DropReason::Navigation),
        ("Skip to main content", DropReason::Navigation),
        (
            "Russia Putin Russian President Vladimir Putin, center, accompanied by International Boxing Association President Umar Kremlev, second left, poses for a photo with athletes participating in the Ural FC 4 boxing and kickboxing tournament in Perm, Russia, Thursday, Oct. 19, 2023.",
            DropReason::Caption,
        ),
        (
            "President Joe Biden speaks during a news conference in the East Room of the White House in Washington, Wednesday, Nov. 15, 2023. (AP Photo/Evan Vucci)",
            DropReason::Caption,
        ),
        (
            "FILE - The Capitol is seen in Washington, Jan. 3, 2023.",
            DropReason::Caption,
        ),
        (
            "Firefighters battle the blaze near the harbor. (Photo: Tomas Reyes)",
            DropReason::Caption,
        ),
    ];
    for &(text, expected) in cases {
        assert_eq!(classify(text), Some(expected), "{text:?}");
    }
}

#[test]
fn story_is_never_furniture() {
    let story = [
        "Russia is waging a campaign to “undermine democratic processes globally,” according to U.S. intelligence and State Department officials.",
        "The integrity of democratic elections has emerged as a hot-button political topic in recent years.",
        "By Monday, the council had approved the budget.",
        "By the time the ferry arrived, the dock was full.",
        "Share prices fell 3% on Thursday.",
        "Listen to the people who ride this ferry every night, she said.",
        "The mayor, center, and two aides left the meeting on Thursday, Oct. 19, 2023.",
        "Copyright law has not kept up with the technology.",
        "The photo, taken by a passenger, shows the boat listing.",
        "He was the paper's Moscow correspondent for a decade.",
        "Reporters waited outside until 4:12 p.m. on Friday.",
        "On October 20, 2023, the council voted 5 to 2.",
        "Print subscriptions fell for the ninth year in a row.",
        "Comments from residents were mostly positive.",
        "Home prices rose 4% and/or stayed flat, depending on the district.",
        "The cable, obtained by the Washington Examiner, was sent on Thursday.",
        "Advertising revenue at the paper fell by a third last year, the company said.",
        "Related programs will start next spring.",
        "October was the wettest month on record.",
        "Smith, second from left in the old photo, still lives on Mill Street.",
        "March 2023",
        "1987",
        "October 2023",
    ];
    for text in story {
        assert_eq!(classify(text), None, "{text:?}");
    }
}

#[test]
fn story_lists_are_recognised_by_their_heading() {
    for heading in [
        "Related Stories",
        "MORE FROM POLITICS",
        "Most read",
        "You may also like:",
    ] {
        assert!(heads_a_story_list(heading), "{heading}");
    }
    for heading in [
        "More from the hearing",
        "Related programs will start next spring.",
    ] {
        assert!(!heads_a_story_list(heading), "{heading}");
    }
}
