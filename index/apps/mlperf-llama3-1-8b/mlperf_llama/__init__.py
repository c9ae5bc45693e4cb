"""MLPerf Inference llama3.1-8b and llama3.1-8b-edge (CNN-DailyMail summarisation) on the
shared harness: transformers or vLLM, the official or a synthetic tiny Llama."""

# The model's name in LoadGen's mlperf.conf.
LOADGEN_MODEL = "llama3_1-8b"
