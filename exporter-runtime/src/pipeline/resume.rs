//! A followed stream's next generation joined from the last commit's saved state.

use std::path::Path;

use super::{Following, Slot};
use crate::error::ExportError;
use exporter_core::{Campaign, EventCounts, InputStats, SinkError};

/// Joins a followed stream's next generation: the saved state of the last commit restored
/// into the counts and handed to each sink, or, for a stream's first run, the state before
/// any event committed at once (so a first generation killed before its commit is undone by
/// the restart like any other).
pub(super) fn resume_following(
    out_dir: &Path,
    slots: &mut [Slot],
    campaign: &mut Campaign,
    input: &mut InputStats,
    events: &mut EventCounts,
) -> Result<Following, ExportError> {
    let commit_error = |source| ExportError::Commit {
        dir: out_dir.to_path_buf(),
        source,
    };
    let loaded = crate::follow::load(out_dir).map_err(commit_error)?;
    let names: Vec<String> = slots.iter().map(|s| s.spec.name.clone()).collect();
    let (saved, sink_states) = match loaded {
        Some((saved, states)) => {
            if saved.sinks != names {
                return Err(ExportError::Sink {
                    sink: "pipeline".into(),
                    error: SinkError::new(format!(
                        "the output directory holds a followed stream committed by the sinks {:?}, and the manifest now has {names:?}; follow into a new output directory",
                        saved.sinks
                    )),
                });
            }
            (Some(saved), states)
        }
        None => (None, vec![None; slots.len()]),
    };
    let generation = saved.as_ref().map_or(1, |s| s.generation + 1);
    let mut initial = Vec::with_capacity(slots.len());
    for (slot, state) in slots.iter_mut().zip(&sink_states) {
        let first = slot
            .sink
            .follow(state.as_deref(), &slot.files)
            .map_err(|error| ExportError::Sink {
                sink: slot.spec.name.clone(),
                error,
            })?;
        initial.push(first);
    }
    match saved {
        Some(saved) => {
            campaign.update(&saved.campaign);
            *input = saved.input;
            *events = saved.events;
            Ok(Following {
                generation,
                position: saved.position,
                parts: saved.parts,
            })
        }
        None => {
            let zero = crate::follow::Saved {
                generation: 0,
                sinks: names,
                campaign: campaign.clone(),
                ..Default::default()
            };
            let (files, removals) =
                crate::follow::stage(out_dir, &zero, &initial).map_err(commit_error)?;
            crate::commit::commit_set(out_dir, files, removals, true).map_err(commit_error)?;
            Ok(Following {
                generation,
                position: None,
                parts: Default::default(),
            })
        }
    }
}
