"""The batched Python consumer a user would write instead of mlstream: kafka-python and a
scikit-learn text classifier (hashing → tf-idf → logistic regression, the shape of the
spam-text package), trained on the same SpamAssassin mails.

  python3 sklearn_pipe.py train <mails.jsonl> <model.pickle>
  python3 sklearn_pipe.py serve <model.pickle>

`serve` reads the same environment variables as mlstream (KAFKA_BOOTSTRAP_SERVER,
KAFKA_INCOMING_MSG_TOPIC, KAFKA_PREDICTIONS_TOPIC, KAFKA_GROUP_ID, KAFKA_SESSION_TIMEOUT_MS,
KAFKA_MAX_WAIT_MS, SLICE_SIZE, SLICE_BYTES: a poll takes at most a slice's records, and a
partition's fetch at most a slice's bytes) and does per poll what the runtime does per slice: decode,
predict the whole batch at once, produce with acks=all, wait for the acknowledgements,
commit. Run by scripts/bench with Debian's python3-sklearn and python3-kafka.
"""
import json
import os
import pickle
import signal
import sys

HEADER_SOURCE = "mlstream-source"
LABELS = {0: "ham", 1: "spam"}


def train(mails_file, model_file):
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = [], []
    with open(mails_file, encoding="utf-8") as f:
        for line in f:
            mail = json.loads(line)
            texts.append(mail["text"])
            labels.append(mail["label"])
    model = make_pipeline(
        HashingVectorizer(n_features=16384, alternate_sign=False, norm=None, stop_words="english"),
        TfidfTransformer(),
        LogisticRegression(max_iter=300),
    )
    model.fit(texts, labels)
    with open(model_file, "wb") as f:
        pickle.dump(model, f)


def serve(model_file):
    from kafka import KafkaConsumer, KafkaProducer

    with open(model_file, "rb") as f:
        model = pickle.load(f)
    env = os.environ
    session_ms = int(env.get("KAFKA_SESSION_TIMEOUT_MS", "30000"))
    consumer = KafkaConsumer(
        env["KAFKA_INCOMING_MSG_TOPIC"],
        bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVER"].split(","),
        group_id=env["KAFKA_GROUP_ID"],
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=int(env.get("SLICE_SIZE", "1000")),
        max_partition_fetch_bytes=int(env.get("SLICE_BYTES", "524288")),
        fetch_max_wait_ms=int(env.get("KAFKA_MAX_WAIT_MS", "500")),
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(100, session_ms // 10),
    )
    producer = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVER"].split(","), acks="all")
    predictions = env["KAFKA_PREDICTIONS_TOPIC"]
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.__setitem__(0, False))
    while running[0]:
        polled = consumer.poll(timeout_ms=100)
        for tp, records in polled.items():
            bodies = [json.loads(r.value) for r in records]
            probabilities = model.predict_proba([b["text"] for b in bodies])
            for record, body, p in zip(records, bodies, probabilities):
                value = {"id": body.get("id"), "prediction": LABELS[int(p.argmax())], "probability": {"ham": float(p[0]), "spam": float(p[1])}}
                source = f"{tp.topic}/{tp.partition}/{record.offset}".encode()
                producer.send(predictions, key=record.key, value=json.dumps(value).encode(), headers=[(HEADER_SOURCE, source)])
        if polled:
            # Offsets of the whole poll are committed only once all its outputs are acknowledged.
            producer.flush()
            consumer.commit()
    consumer.close()
    producer.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "train":
        train(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
