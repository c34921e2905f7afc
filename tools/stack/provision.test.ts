import { loadStackConfig } from './config';
import { keyspaceReplication } from './provision';

describe('keyspaceReplication', () => {
  it('uses SimpleStrategy RF 1 on the local node', () => {
    expect(keyspaceReplication(loadStackConfig({}).cassandra)).toBe(
      "{'class': 'SimpleStrategy', 'replication_factor': 1}",
    );
  });

  it('uses NetworkTopologyStrategy in the local DC elsewhere', () => {
    const cassandra = loadStackConfig({
      CASSANDRA_CONTACT_POINTS: 'cass-0',
      CASSANDRA_LOCAL_DC: 'eu1',
    }).cassandra;
    expect(keyspaceReplication(cassandra, {})).toBe("{'class': 'NetworkTopologyStrategy', 'eu1': 3}");
    expect(keyspaceReplication(cassandra, { CASSANDRA_REPLICATION_FACTOR: '2' })).toBe(
      "{'class': 'NetworkTopologyStrategy', 'eu1': 2}",
    );
    expect(() => keyspaceReplication(cassandra, { CASSANDRA_REPLICATION_FACTOR: 'x' })).toThrow(
      /positive integer/,
    );
  });
});
