package io.streamlease;

import java.util.Map;

/**
 * One entry of a data stream, handed to an entry-level {@link StreamHandler}.
 *
 * @param stream the data stream
 * @param id the entry id
 * @param fields the fields of the entry
 */
public record StreamEntry(String stream, String id, Map<String, String> fields) {

	public StreamEntry {
		fields = Map.copyOf(fields);
	}

	/**
	 * The value of a field, or null.
	 */
	public String field(String name) {
		return this.fields.get(name);
	}

}
