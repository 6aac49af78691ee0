"""The learned reward model: inputs that never show a step its own observation, labels from the
pipeline's verdicts, a small causal backbone or a fine-tuned encoder, training, metrics, the
leakage audit, and model versions in the store."""
