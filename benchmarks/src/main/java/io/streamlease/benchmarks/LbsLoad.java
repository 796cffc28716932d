package io.streamlease.benchmarks;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RStream;
import org.redisson.api.RStreamAsync;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.api.stream.StreamCreateGroupArgs;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.client.codec.StringCodec;

/**
 * Writes LBS entries in the wire format that {@code LbsProducer} writes (and redis-stream-client-go producers):
 * one field {@code lbs-input} holding {@code {"DataStreamName": "<name>", "Info": {...}}}. {@code LbsProducer}
 * sends one entry per round trip; to announce 100,000 streams quickly the harness pipelines them (RBatch,
 * 1,000 entries a batch) and sends paced entries asynchronously. Stream names here need no JSON escaping.
 */
final class LbsLoad {

	static final String FIELD = "lbs-input";

	private static final int BATCH = 1000;

	private final RedissonClient redisson;

	private final String lbs;

	private final RStream<String, String> stream;

	LbsLoad(RedissonClient redisson, String service) {
		this.redisson = redisson;
		this.lbs = service + "-input";
		this.stream = redisson.getStream(this.lbs, StringCodec.INSTANCE);
	}

	static String payload(String stream, String infoJson) {
		return "{\"DataStreamName\":\"" + stream + "\",\"Info\":" + ((infoJson != null) ? infoJson : "{}") + "}";
	}

	static String streamName(int index) {
		return String.format("s-%06d", index);
	}

	/** Announces streams {@code s-000000 .. s-(count-1)}, pipelined. */
	void submitAll(int count) {
		for (int from = 0; from < count; from += BATCH) {
			RBatch batch = this.redisson.createBatch(BatchOptions.defaults());
			RStreamAsync<String, String> async = batch.getStream(this.lbs, StringCodec.INSTANCE);
			for (int i = from; i < Math.min(count, from + BATCH); i++) {
				async.addAsync(StreamAddArgs.entry(FIELD, payload(streamName(i), null)));
			}
			batch.execute();
		}
	}

	/** Announces one stream without waiting for the reply. */
	CompletableFuture<StreamMessageId> submitAsync(String stream, String infoJson) {
		return this.stream.addAsync(StreamAddArgs.entry(FIELD, payload(stream, infoJson))).toCompletableFuture();
	}

	/** Creates the group as the engine does (MKSTREAM, from the newest entry), so that a backlog can be written first. */
	void createGroup(String group) {
		this.stream.createGroup(StreamCreateGroupArgs.name(group).id(StreamMessageId.NEWEST).makeStream());
	}

	long length() {
		return this.stream.size();
	}

	static List<String> names(int count) {
		return java.util.stream.IntStream.range(0, count).mapToObj(LbsLoad::streamName).toList();
	}

}
