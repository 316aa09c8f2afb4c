import { planWaves, rolloutOrder } from './waves';

const agents = (n: number) => Array.from({ length: n }, (_, i) => `pc-${i}`);

describe('planWaves', () => {
  it.each([
    [10, { percents: [10, 40, 100] }, [1, 3, 6]],
    [5, { percents: [10, 40, 100] }, [1, 1, 3]],
    [1, { percents: [10, 40, 100] }, [1]],
    [3, { percents: [50, 100] }, [2, 1]],
    [7, { size: 3 }, [3, 3, 1]],
    [6, { size: 3 }, [3, 3]],
    [2, { size: 5 }, [2]],
    [0, { size: 5 }, []],
    [0, { percents: [100] }, []],
  ])('%i agents, %j -> wave sizes %j', (n, spec, sizes) => {
    const waves = planWaves('rol_1', agents(n), spec);
    expect(waves.map((w) => w.length)).toEqual(sizes);
    expect(waves.flat().sort()).toEqual(agents(n).sort());
  });

  it('is deterministic per rollout and differs between rollouts', () => {
    const a = rolloutOrder('rol_a', agents(50));
    expect(rolloutOrder('rol_a', [...agents(50)].reverse())).toEqual(a);
    expect(rolloutOrder('rol_b', agents(50))).not.toEqual(a);
  });

  it('counts an agent named twice once', () => {
    expect(planWaves('rol_1', ['x', 'x', 'y'], { size: 1 })).toHaveLength(2);
  });
});
