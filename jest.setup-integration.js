// testTimeout is a global jest option, so projects that talk to real servers set theirs here.
jest.setTimeout(120_000);
