//! Embedding networks by name, as the command line, the index and the page's switch know them.

use crate::{Embedder, Face, FaceError, LookNet, LookWeights, NetworkCard, Photo, look};

/// What the index and the page need to know about a network before loading it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkSpec {
    /// Name on the command line, in the manifest and in the UI switch.
    pub name: &'static str,
    /// For people.
    pub description: &'static str,
    /// Vector length.
    pub dimension: usize,
    /// Model files (in `models/`) it loads, in the order [`Network::load`] asks for them.
    pub files: &'static [&'static str],
    /// Cosine similarity above which two faces are judged the same person: LFW's 10-fold
    /// verification threshold, the mean over the folds (`cfaces eval` prints it). The page uses
    /// it to explain what a similarity means.
    pub same_person_similarity: f32,
    /// Above this similarity the nearest photo is taken for the visitor's own, and its person's
    /// catalog gender presets the filter instead of the estimate: people in the index then find
    /// themselves (recall@1) while strangers keep the estimate. Tuned on the tuning half of LFW's
    /// people with `cfaces eval --lookalike --retrieval` (docs/MODELS.md).
    pub preset_same_person: f32,
}

impl NetworkSpec {
    /// MobileFaceNet 192-d: the default identity network (best LFW accuracy, smallest).
    pub const IDENTITY: NetworkSpec = NetworkSpec {
        name: NetworkCard::MOBILEFACENET_192.name,
        description: NetworkCard::MOBILEFACENET_192.description,
        dimension: NetworkCard::MOBILEFACENET_192.dimension,
        files: &[NetworkCard::MOBILEFACENET_192.file],
        same_person_similarity: 0.378,
        preset_same_person: 0.6,
    };
    /// faceplugin's 512-d identity network.
    pub const FACEPLUGIN: NetworkSpec = NetworkSpec {
        name: NetworkCard::FACEPLUGIN_512.name,
        description: NetworkCard::FACEPLUGIN_512.description,
        dimension: NetworkCard::FACEPLUGIN_512.dimension,
        files: &[NetworkCard::FACEPLUGIN_512.file],
        same_person_similarity: 0.287,
        preset_same_person: 0.5,
    };
    /// The overall-look blend of identity, gender and age.
    pub const LOOK: NetworkSpec = NetworkSpec {
        name: "look",
        description: "Overall look: identity 50 %, gender 30 %, age 20 % (MobileFaceNet + SSR-Net)",
        dimension: look::LOOK_DIMENSION,
        files: &[
            LookNet::IDENTITY.file,
            crate::Attribute::Age.file(),
            crate::Attribute::Gender.file(),
        ],
        same_person_similarity: 0.610,
        preset_same_person: 0.8,
    };

    /// Every network this build knows; the first is the default.
    pub const ALL: [NetworkSpec; 3] = [Self::IDENTITY, Self::LOOK, Self::FACEPLUGIN];

    /// The network named `name`.
    pub fn named(name: &str) -> Option<NetworkSpec> {
        Self::ALL.into_iter().find(|s| s.name == name)
    }

    /// The known names, for messages.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|s| s.name).collect()
    }
}

/// A loaded embedding network.
pub enum Network {
    Identity(Embedder),
    Look(Box<LookNet>),
}

impl Network {
    /// Loads the network of `spec`; `read` gives the bytes of each of `spec.files`.
    pub fn load(
        spec: NetworkSpec,
        mut read: impl FnMut(&str) -> Result<Vec<u8>, FaceError>,
    ) -> Result<Network, FaceError> {
        if spec == NetworkSpec::LOOK {
            let [identity, age, gender] = spec.files else {
                unreachable!("the look network loads three files")
            };
            return Ok(Network::Look(Box::new(LookNet::new(
                &read(identity)?,
                &read(age)?,
                &read(gender)?,
                LookWeights::DEFAULT,
            )?)));
        }
        let card = NetworkCard::ALL
            .into_iter()
            .find(|c| c.name == spec.name)
            .ok_or_else(|| FaceError::Model {
                model: spec.name.into(),
                reason: "no model card of that name".into(),
            })?;
        Ok(Network::Identity(Embedder::new(card, &read(card.file)?)?))
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        match self {
            Network::Identity(e) => e.card().name,
            Network::Look(_) => NetworkSpec::LOOK.name,
        }
    }

    /// The embedder whose crop this network looks at.
    pub fn crop_embedder(&self) -> &Embedder {
        match self {
            Network::Identity(e) => e,
            Network::Look(look) => look.identity(),
        }
    }

    /// The aligned crop the network sees ("what the network sees" in the page).
    pub fn aligned_crop(&self, photo: &Photo, face: &Face) -> Result<Vec<u8>, FaceError> {
        self.crop_embedder().aligned_crop(photo, face)
    }

    /// The unit vector of one face whose crop is `crop` (from [`Network::aligned_crop`]).
    pub fn embed_aligned(
        &self,
        photo: &Photo,
        face: &Face,
        crop: &[u8],
    ) -> Result<Vec<f32>, FaceError> {
        match self {
            Network::Identity(e) => e.embed_crop(crop),
            Network::Look(look) => look.embed_aligned(photo, face, crop),
        }
    }

    /// The unit vector of one face whose crop is `crop`, and MobileFaceNet's vector of it where
    /// this network has MobileFaceNet inside (the identity network, and the look blend): what
    /// the gender probe reads, computed once.
    pub fn embed_aligned_with_identity(
        &self,
        photo: &Photo,
        face: &Face,
        crop: &[u8],
    ) -> Result<(Vec<f32>, Option<Vec<f32>>), FaceError> {
        match self {
            Network::Identity(e) => {
                let vector = e.embed_crop(crop)?;
                let identity = (e.card().name == LookNet::IDENTITY.name).then(|| vector.clone());
                Ok((vector, identity))
            }
            Network::Look(look) => {
                let identity = look.identity().embed_crop(crop)?;
                let vector = look.embed_with_identity(photo, face, &identity)?;
                Ok((vector, Some(identity)))
            }
        }
    }

    /// The unit vector of one face.
    pub fn embed(&self, photo: &Photo, face: &Face) -> Result<Vec<f32>, FaceError> {
        self.embed_aligned(photo, face, &self.aligned_crop(photo, face)?)
    }
}
