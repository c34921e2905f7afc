import { SERVICE_NAMES, serviceUrl, serviceUrlVariable } from './services';

describe('serviceUrl', () => {
  it('defaults to the launcher port on loopback', () => {
    expect(serviceUrl('order-service', {})).toBe('http://127.0.0.1:8081');
    expect(serviceUrl('query-api', {})).toBe('http://127.0.0.1:8080');
    expect(serviceUrl('inventory-service', {})).toBe('http://127.0.0.1:8083');
  });

  it('reads <NAME>_URL and drops a trailing slash', () => {
    expect(serviceUrlVariable('inventory-service')).toBe('INVENTORY_SERVICE_URL');
    expect(serviceUrl('order-service', { ORDER_SERVICE_URL: 'https://orders.example/' })).toBe(
      'https://orders.example',
    );
    expect(serviceUrl('order-service', { ORDER_SERVICE_URL: '' })).toBe('http://127.0.0.1:8081');
  });

  it('knows the five services', () => {
    expect(SERVICE_NAMES).toHaveLength(6);
  });
});
