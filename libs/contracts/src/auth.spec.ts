import { describeRoles, roleAllows, ROLES, type Role } from './auth';

describe('roles', () => {
  const admitted = (allowed: Role[]) => ROLES.filter((r) => roleAllows(r, allowed));

  it('admits every human role from the lowest one named upwards', () => {
    expect(admitted(['viewer'])).toEqual(['viewer', 'operator', 'admin']);
    expect(admitted(['operator'])).toEqual(['operator', 'admin']);
    expect(admitted(['admin'])).toEqual(['admin']);
  });

  it('admits a machine role only where it is named, and no human role through it', () => {
    expect(admitted(['agent'])).toEqual(['agent']);
    expect(admitted(['relay', 'admin'])).toEqual(['admin', 'relay']);
    expect(admitted(['viewer', 'agent'])).toEqual(['viewer', 'operator', 'admin', 'agent']);
  });

  it('says what is needed in words', () => {
    expect(describeRoles(['operator'])).toBe('operator or higher');
    expect(describeRoles(['admin'])).toBe('admin');
    expect(describeRoles(['agent', 'viewer'])).toBe('viewer or higher or agent');
  });
});
