//! The catalog file: round trip, and every kind of damage refused with its reason.

use cf_shards::{Catalog, CatalogInfo, ShardError, ThumbnailInfo, file_entry};

fn catalog() -> Catalog {
    Catalog {
        names: vec!["Ada Lovelace".into(), "Zoë D'Água-Ñúñez".into()],
        person_of_item: vec![0, 1, 1],
        thumbs: vec![
            "0123456789abcdef".into(),
            "fedcba9876543210".into(),
            "00000000000000ff".into(),
        ],
        genders: "Fm".into(),
        well_known: vec![1],
    }
}

fn info_for(bytes: &[u8], people: usize, items: usize) -> CatalogInfo {
    CatalogInfo {
        dataset: "test".into(),
        people,
        items,
        file: file_entry("catalog.json", bytes),
        thumbnails: ThumbnailInfo {
            base_url: "thumbnails/".into(),
            size: 112,
            portrait_size: None,
        },
    }
}

#[test]
fn round_trips_and_lists_a_persons_items() {
    let c = catalog();
    let bytes = c.encode();
    let decoded = Catalog::decode(&info_for(&bytes, 2, 3), &bytes).unwrap();
    assert_eq!(decoded, c);
    assert_eq!(decoded.items_of(1), vec![1, 2]);
    assert_eq!(decoded.items_of(0), vec![0]);
}

#[test]
fn damage_is_refused_with_its_reason() {
    let bytes = catalog().encode();
    let info = info_for(&bytes, 2, 3);
    assert!(matches!(
        Catalog::decode(&info, &bytes[..bytes.len() - 1]),
        Err(ShardError::Truncated { .. })
    ));
    let mut flipped = bytes.clone();
    flipped[5] ^= 1;
    assert!(matches!(
        Catalog::decode(&info, &flipped),
        Err(ShardError::Checksum { .. })
    ));
    let wrong_counts = info_for(&bytes, 3, 3);
    let err = Catalog::decode(&wrong_counts, &bytes).unwrap_err();
    assert!(err.to_string().contains("manifest says 3 and 3"), "{err}");
    let not_json = b"[1, 2".to_vec();
    let err = Catalog::decode(&info_for(&not_json, 2, 3), &not_json).unwrap_err();
    assert!(err.to_string().contains("not valid catalog JSON"), "{err}");
    // A fetched file's length and checksum were checked by the fetch; the rest still is.
    assert_eq!(Catalog::decode_fetched(&info, &bytes).unwrap(), catalog());
    let err = Catalog::decode_fetched(&wrong_counts, &bytes).unwrap_err();
    assert!(err.to_string().contains("manifest says 3 and 3"), "{err}");
    let err = Catalog::decode_fetched(&info, &not_json).unwrap_err();
    assert!(err.to_string().contains("not valid catalog JSON"), "{err}");
}

#[test]
fn genders_and_well_known_people_are_read_and_checked() {
    use cf_shards::{Gender, GenderSource};
    let c = catalog();
    assert_eq!(
        c.gender_of(0),
        Some((Gender::Female, GenderSource::Labelled))
    );
    assert_eq!(
        c.gender_of(1),
        Some((Gender::Male, GenderSource::Estimated))
    );
    assert_eq!(c.gender_of(2), None);
    assert!(c.is_well_known(1) && !c.is_well_known(0));
    for code in ['F', 'M', 'f', 'm', '-'] {
        let gender = Catalog {
            genders: code.to_string(),
            ..catalog()
        }
        .gender_of(0);
        assert_eq!(Catalog::gender_code(gender), code);
    }
    let mut c = catalog();
    c.genders = "F".into();
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("1 characters for 2 people")
    );
    c.genders = "Fx".into();
    assert!(c.validate().unwrap_err().to_string().contains("'x'"));
    let mut c = catalog();
    c.well_known = vec![1, 0];
    assert!(c.validate().unwrap_err().to_string().contains("ascending"));
    c.well_known = vec![5];
    assert!(c.validate().unwrap_err().to_string().contains("person 5"));
    // An older catalog without either field still reads: nobody's gender is known.
    let old = br#"{"names":["A"],"person_of_item":[0],"thumbs":["0123456789abcdef"]}"#;
    let old = Catalog::decode(&info_for(old, 1, 1), old).unwrap();
    assert_eq!((old.gender_of(0), old.well_known.len()), (None, 0));
}

#[test]
fn inconsistent_catalogs_fail_validation() {
    let mut c = catalog();
    c.person_of_item[2] = 7;
    assert!(c.validate().unwrap_err().to_string().contains("person 7"));
    let mut c = catalog();
    c.person_of_item = vec![1, 1, 1];
    assert!(
        c.validate()
            .unwrap_err()
            .to_string()
            .contains("has no item")
    );
    let mut c = catalog();
    c.thumbs.pop();
    assert!(c.validate().is_err());
    let mut c = catalog();
    c.thumbs[1] = "../../etc/passwd".into();
    assert!(c.validate().unwrap_err().to_string().contains("hex digits"));
}
