//! The catalog (who each item is), as the page reads and then uses it: decoded against the
//! counts the manifest promises, then every person's and item's lookups.
#![no_main]

use cf_shards::{Catalog, CatalogInfo, ThumbnailInfo, file_entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, u16, &[u8])| {
    let (people, items, bytes) = input;
    let info = CatalogInfo {
        dataset: "fuzz".into(),
        people: usize::from(people),
        items: usize::from(items),
        // The download has checked the checksum; what is fuzzed is what comes after it.
        file: file_entry("catalog.json", bytes),
        thumbnails: ThumbnailInfo {
            base_url: "thumbnails/".into(),
            size: 112,
            portrait_size: Some(256),
        },
    };
    let Ok(catalog) = Catalog::decode(&info, bytes) else {
        return;
    };
    for person in 0..catalog.names.len() as u32 {
        for item in catalog.items_of(person) {
            assert_eq!(catalog.person_of_item[item as usize], person);
        }
        let _ = Catalog::gender_code(catalog.gender_of(person));
        let _ = catalog.is_well_known(person);
    }
    for &person in &catalog.person_of_item {
        let _ = &catalog.names[person as usize];
    }
});
