// testTimeout is a global jest option, so the end-to-end project sets its own here.
jest.setTimeout(300_000);
