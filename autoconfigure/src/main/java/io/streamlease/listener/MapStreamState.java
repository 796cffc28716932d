package io.streamlease.listener;

import java.util.LinkedHashMap;
import java.util.Map;

import io.streamlease.StreamState;

/**
 * The state of one entry-level stream, owned by one thread at a time (the one processing its batch).
 */
final class MapStreamState implements StreamState {

	private final Map<String, String> values;

	private volatile boolean completed;

	MapStreamState(Map<String, String> initial) {
		this.values = new LinkedHashMap<>(initial);
	}

	@Override
	public String get(String key) {
		return this.values.get(key);
	}

	@Override
	public void put(String key, String value) {
		this.values.put(key, value);
	}

	@Override
	public void remove(String key) {
		this.values.remove(key);
	}

	@Override
	public Map<String, String> asMap() {
		return Map.copyOf(this.values);
	}

	@Override
	public void complete() {
		this.completed = true;
	}

	boolean isCompleted() {
		return this.completed;
	}

	Map<String, String> snapshot() {
		return new LinkedHashMap<>(this.values);
	}

	void restore(Map<String, String> snapshot) {
		this.values.clear();
		this.values.putAll(snapshot);
	}

}
