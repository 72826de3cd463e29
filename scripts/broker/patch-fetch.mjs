// Patches librdkafka's mock cluster (src/rdkafka_mock_handlers.c) so that a Fetch returns
// every stored message set from the fetch offset on that fits the request's byte limits, as a
// real broker does, instead of exactly one. Unpatched, a consumer that has fallen behind
// gets one producer batch per partition per round trip however far behind it is, so on the
// local broker nothing can catch up with a producer that sends small batches often (the
// bench's paced latency runs saturated the plain kafkajs pipe at 4,200 records/s that way).
// The first message set is still always sent whole, whatever the limits, as Kafka does.
//
// `node patch-fetch.mjs <path to rdkafka_mock_handlers.c>`; exits non-zero when the code
// it replaces is not there (a different librdkafka), so build.sh stops instead of building
// an unpatched broker.
import { patchFile } from './patch-source.mjs';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node patch-fetch.mjs <rdkafka_mock_handlers.c>\n');
  process.exit(2);
}
const original = `                                /* Response: Records */
                                size_t written = rd_kafka_buf_write_kbytes(
                                    resp, &mset->bytes);
                                partsize += written;
                                totsize += written;

                                /* FIXME: Multiple messageSets ? */`;
const patched = `                                /* Response: Records (mlstream: every message
                                 * set that fits the limits, see patch-fetch.mjs) */
                                const rd_kafka_mock_msgset_t *last = mset, *next;
                                size_t len = RD_KAFKAP_BYTES_LEN(&mset->bytes);
                                size_t written;
                                while (!on_follower &&
                                       (next = TAILQ_NEXT(last, link)) &&
                                       partsize + len +
                                               RD_KAFKAP_BYTES_LEN(&next->bytes) <=
                                           (size_t)PartMaxBytes &&
                                       totsize + len +
                                               RD_KAFKAP_BYTES_LEN(&next->bytes) <=
                                           (size_t)MaxBytes) {
                                        len += RD_KAFKAP_BYTES_LEN(&next->bytes);
                                        last = next;
                                }
                                if (resp->rkbuf_flags & RD_KAFKA_OP_F_FLEXVER)
                                        rd_kafka_buf_write_uvarint(resp, (uint64_t)len + 1);
                                else
                                        rd_kafka_buf_write_i32(resp, (int32_t)len);
                                for (next = mset;; next = TAILQ_NEXT(next, link)) {
                                        rd_kafka_buf_write(resp, next->bytes.data,
                                                           RD_KAFKAP_BYTES_LEN(&next->bytes));
                                        if (next == last)
                                                break;
                                }
                                written = 4 + len;
                                partsize += written;
                                totsize += written;`;
patchFile(file, [[original, patched]], 'patch-fetch');
